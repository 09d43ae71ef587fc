-- Start over: drops the application tables.
DROP TABLE IF EXISTS orders;
DROP TABLE users;
