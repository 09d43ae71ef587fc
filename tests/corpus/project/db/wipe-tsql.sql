-- Clears the staging tables, batch by batch.
:setvar schema dbo
TRUNCATE TABLE dbo.Staging
GO
:r db/drop.sql
GO
