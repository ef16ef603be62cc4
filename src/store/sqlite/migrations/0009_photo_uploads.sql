-- What one account uploaded lately, for its daily photo allowance
-- (patrol::photos::PhotoQuota): counted per upload, newest last.
CREATE INDEX photos_by_uploader ON photos (uploaded_by, uploaded_at);
