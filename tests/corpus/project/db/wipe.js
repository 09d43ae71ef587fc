// Reset the development data.
const name = "app";
db.getSiblingDB(name).dropDatabase();
