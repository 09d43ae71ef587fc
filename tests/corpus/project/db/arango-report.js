db._collections().forEach(function (c) { print(c.name()); });
