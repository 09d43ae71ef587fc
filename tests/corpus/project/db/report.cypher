MATCH (n:User) RETURN count(n);
