SET NOCOUNT ON
GO
SELECT TOP 10 * FROM dbo.Orders
GO
:r db/report.sql
GO
