"""Where the directory meets inquiries: trusted-partner links and badges, the directory's lists and
timelines, merges of contacts and organisations, and a person's data (export and erasure).

These sit above ``directory`` and ``inquiries`` (an inquiry changes only through the recorder).
"""
