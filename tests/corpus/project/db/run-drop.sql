SET ECHO ON
SPOOL drop.log
@db/drop.sql
SPOOL OFF
EXIT
