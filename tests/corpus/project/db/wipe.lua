-- Clears every key in the current database.
redis.call('FLUSHDB')
return 1
