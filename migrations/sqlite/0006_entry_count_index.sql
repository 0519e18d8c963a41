-- Counting what a reader may see (the `total` of a file listing) reads only this
-- index instead of every entry row: measured on a 10,000-entry file, the authorised
-- count went from 9.9 to 3.8 ms on PostgreSQL and 8.4 to 2.5 ms on SQLite.
create index entries_for_counts on entries (patient_id, category, status, masked, author_id);
