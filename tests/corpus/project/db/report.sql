-- Monthly report.
SELECT count(*) FROM orders;
SELECT id, email FROM users LIMIT 10;
