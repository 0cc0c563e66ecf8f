CREATE TABLE todos (
    id SERIAL PRIMARY KEY,
    user_guid TEXT NOT NULL,
    title TEXT NOT NULL,
    done BOOLEAN NOT NULL DEFAULT false
);

-- Only the platform reads this one: no function lists it.
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    entry TEXT NOT NULL
);
