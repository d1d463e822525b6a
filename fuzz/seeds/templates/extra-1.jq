def prefix: "p-";
# comment
{"name": (prefix + "d"), "config": {"k": env.KAFKA_API_KEY}}