// Start over in ArangoDB.
db._drop("users");
