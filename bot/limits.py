"""How many bytes each reader of untrusted input may hold, each derived from a limit of the service that wrote them.

A reader refuses input over its bound before holding the excess (bot/bounded.py reads and inflates in bounded
steps), so a hostile request, object or file costs at most its bound, never its declared or inflated size. The
derivations are spelled out so a reader can check them against the services' documentation.
"""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB

# ---------------------------------------------------------------------------------------------------- Slack

# A request body Slack sends to /slack/events. The largest is an interaction carrying one view (a modal or the
# Home tab, at most 100 blocks; a message has at most 50) that the bot itself rendered, plus what a person typed
# into its inputs. Block Kit caps the text a block shows at 3,000 characters (section text, mrkdwn) and a
# plain-text input at 3,000 characters, so a view holds at most 100 x 3,000 = 300,000 characters shown plus
# 300,000 typed. As JSON (UTF-8, the bot's text mostly ASCII) with about 300 bytes of ids and types a block that
# is about 0.65 MB; the form encoding Slack uses for interactions percent-encodes JSON's punctuation (3 bytes for
# each of those), about 1 MB in all. Twice that leaves room for non-ASCII text. Commands and events are far
# smaller (a command's text is one line). waitress refuses a larger declared body with 413 before reading it.
SLACK_MAX_BODY = 2 * MIB

# ---------------------------------------------------------------------------------------------------- DynamoDB

MAX_ITEM_BYTES = 400 * KIB  # DynamoDB's item size limit (names and values by its size rules)

# The most bytes of DynamoDB JSON one byte of item size can take, over every way of spending it. By DynamoDB's size
# rules a number costs 1 byte per two significant digits plus 1, but is written out in full without an exponent
# (1E-130 as "0.000...01", 132 characters; 9.9E+125 as 126 digits): a one-digit negative number at the bottom of
# the range is 2 bytes of item and `"-0.<129 zeros>1",` (136 bytes) in a number set, 68 bytes a byte. Every other
# form is cheaper: the same number in a list (1 byte more per element) or map (a name as well) 47 and 37; an empty
# string, binary or list in a list (`{"S":""},` for 1 byte) 9; NULL or BOOL 7.5; a string of control characters
# (`\u0001` for 1 byte) 6; binary as base64 1.34.
JSON_BYTES_PER_ITEM_BYTE = 68
MAX_IMAGE_JSON = MAX_ITEM_BYTES * JSON_BYTES_PER_ITEM_BYTE  # one item as DynamoDB JSON: 27.9 MB at most

# One line of an export's data file, newline included. A full export's line is `{"Item":<item>}`; an incremental
# export's carries two images (NewImage and OldImage) plus Keys (a partition key of at most 2,048 bytes and a sort
# key of at most 1,024, names of at most 255, six times that if every byte were escaped: 22 KB) and Metadata (a
# timestamp): 64 KiB covers the keys, metadata and punctuation. 53 MiB; a longer line is not one DynamoDB wrote.
MAX_EXPORT_LINE = 2 * MAX_IMAGE_JSON + 64 * KIB

# What the planner's look at an export's first item inflates: enough for any ordinary item (400 KB of item is
# rarely more than 1 MB of JSON). A longer first line is not an error, only not looked at (the loader reads it).
PEEK_LINE = 1 * MIB

# Each step of inflating a gzip data file: memory for the inflated text is this per step, whatever the file.
INFLATE_STEP = 4 * MIB

# An answer of DynamoDB to one BatchWriteItem: a request is at most 16 MB, and the answer's UnprocessedItems are a
# subset of it, echoed; were every non-ASCII character sent raw echoed as `\uXXXX` (at most three times its UTF-8
# bytes), 48 MiB. Error answers are a few hundred bytes.
MAX_DYNAMODB_ANSWER = 3 * 16 * MIB

# ---------------------------------------------------------------------------------------------------- S3 exports

MAX_S3_KEY_BYTES = 1024  # S3's limit on a key's length, in UTF-8 bytes

# manifest-summary.json: about fifteen fixed fields (ARNs, times, counts, the bucket) of which only the S3 prefix
# (at most 1,024 bytes), the manifest-files key (1,024) and the KMS key id (2,048) are long: about 5 KB, or 25 KB
# were every byte escaped. 1 MiB leaves room for fields AWS may add.
MAX_MANIFEST_SUMMARY = 1 * MIB

# manifest-files.json: one line per data file, `{"itemCount":…,"md5Checksum":"<24>","etag":"<34+>",
# "dataFileS3Key":"<key>"}`, at most ~1,200 bytes with a key as long as S3 allows; 50,000 lines (the most S3
# objects ImportTable or a bulk put reads in one job: an export with more could be restored by neither) is 60 MB.
MAX_MANIFEST_FILES = 64 * MIB

# A manifest's checksum file (.md5 or .checksum): a base64 (24 characters) or hex (32) MD5 and a newline.
MAX_CHECKSUM_FILE = 1 * KIB

# ---------------------------------------------------------------------------------------------------- local files

# The config file (DDBBOT_CONFIG_FILE): an account or a table section is a few hundred bytes, so 1 MiB holds
# thousands of them; a bigger file is a mistake (a wrong path), not a config.
MAX_CONFIG_FILE = 1 * MIB
