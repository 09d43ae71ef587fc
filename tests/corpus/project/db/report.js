// Who signed up this week.
db.users.find({ created: { $gte: new Date(Date.now() - 7 * 864e5) } }).limit(20);
printjson(db.users.countDocuments());
