SET PAGESIZE 100
COLUMN email FORMAT A40
SELECT id, email FROM users WHERE rownum <= 10;
@@report.sql
EXIT
