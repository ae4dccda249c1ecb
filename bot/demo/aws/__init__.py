"""Stand-ins for the DynamoDB behaviours moto 5 lacks (time-travelling PITR, exports as AWS writes them, filtered
and incremental exports, bulk put items), served by a local front in front of moto's HTTP server.

Start everything with `bot.demo.aws.standins.start_standins(moto_endpoint)` and point boto3 at its `url`.
"""
