-- Seed 004's table: userId text primary key, userName text, lastSeen a timestamp defaulting to now.
-- CURRENT_TIMESTAMP is now() in PostgreSQL and also runs on the embedded SQLite database.
CREATE TABLE "users" ("userId" text NOT NULL, "userName" text, "lastSeen" timestamp DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY ("userId"));
