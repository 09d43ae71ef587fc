// Remove everything.
MATCH (n) DETACH DELETE n;
