-- #13: the Teams user id (MRI, "29:…") of an agent linked by AAD object id, as Teams names users in an
-- Adaptive Card's refresh.userIds (per-user views). Learnt from the roster when an agent is linked by
-- email, and from the agent's own activities (clicks, thread replies); cleared when the link changes.
BEGIN;
ALTER TABLE users ADD COLUMN teams_mri text;
COMMIT;
