-- +goose Up
-- The language a course's content is written in (a BCP 47 tag, '' when not said): pages mark the content with it
-- (lang="…") so that screen readers pronounce it and browsers hyphenate it, whatever language the pages speak.
ALTER TABLE courses ADD COLUMN language TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE courses DROP COLUMN language;
