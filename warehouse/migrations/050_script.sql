-- The script of a Chinese article: `Hant` (traditional) or `Hans` (simplified), told by
-- the characters only one script has (tasks/understand/chinese.py); NULL for other
-- languages and for a Chinese text too short to tell. Rows stored before this column
-- stay NULL until `hkai reprocess` re-reads them.
-- Append-only: change with a new NNN_slug.sql.
ALTER TABLE articles ADD COLUMN script VARCHAR;
