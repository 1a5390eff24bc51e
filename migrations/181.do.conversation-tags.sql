-- Tags agents put on conversations (free labels beside the AI's category), filterable in the inbox.
ALTER TABLE conversations ADD COLUMN tags text[] NOT NULL DEFAULT '{}';
CREATE INDEX conversations_tags_idx ON conversations USING gin (tags);
-- Snoozed conversations due to wake, found without reading every conversation.
CREATE INDEX conversations_snoozed_idx ON conversations (snoozed_until) WHERE status = 'snoozed';
