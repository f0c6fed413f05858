/// Tessera's schema, as an append-only list of migrations. Never edit a released one: add the next.
public enum Schema {
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "tenant", statements: [
            """
            CREATE TABLE clients (
                client_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                app_type TEXT NOT NULL,
                client_secret_digest TEXT,
                token_endpoint_auth_method TEXT NOT NULL,
                callbacks TEXT NOT NULL DEFAULT '[]',
                web_origins TEXT NOT NULL DEFAULT '[]',
                allowed_origins TEXT NOT NULL DEFAULT '[]',
                allowed_logout_urls TEXT NOT NULL DEFAULT '[]',
                grant_types TEXT NOT NULL DEFAULT '[]',
                client_metadata TEXT NOT NULL DEFAULT '{}',
                is_first_party BOOLEAN NOT NULL DEFAULT TRUE,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX clients_name ON clients (name)",
            """
            CREATE TABLE resource_servers (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                identifier TEXT NOT NULL UNIQUE,
                signing_alg TEXT NOT NULL,
                signing_secret TEXT,
                token_lifetime BIGINT NOT NULL,
                scopes TEXT NOT NULL DEFAULT '[]',
                allow_offline_access BOOLEAN NOT NULL DEFAULT FALSE,
                is_system BOOLEAN NOT NULL DEFAULT FALSE,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE client_grants (
                id TEXT PRIMARY KEY,
                client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
                audience TEXT NOT NULL,
                scope TEXT NOT NULL DEFAULT '[]',
                created_at TEXT NOT NULL,
                UNIQUE (client_id, audience)
            )
            """,
            """
            CREATE TABLE users (
                user_id TEXT PRIMARY KEY,
                connection TEXT NOT NULL,
                email TEXT,
                email_verified BOOLEAN NOT NULL DEFAULT FALSE,
                username TEXT,
                name TEXT,
                given_name TEXT,
                family_name TEXT,
                nickname TEXT,
                picture TEXT,
                password_hash TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                last_login TEXT,
                last_ip TEXT,
                logins_count BIGINT NOT NULL DEFAULT 0,
                blocked BOOLEAN NOT NULL DEFAULT FALSE,
                app_metadata TEXT NOT NULL DEFAULT '{}',
                user_metadata TEXT NOT NULL DEFAULT '{}'
            )
            """,
            "CREATE UNIQUE INDEX users_connection_email ON users (connection, email)",
            "CREATE UNIQUE INDEX users_connection_username ON users (connection, username)",
            "CREATE INDEX users_email ON users (email)",
            "CREATE INDEX users_created_at ON users (created_at)",
            "CREATE INDEX users_name ON users (name)",
            """
            CREATE TABLE roles (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                description TEXT NOT NULL DEFAULT ''
            )
            """,
            """
            CREATE TABLE role_permissions (
                role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
                resource_server_identifier TEXT NOT NULL,
                permission_name TEXT NOT NULL,
                PRIMARY KEY (role_id, resource_server_identifier, permission_name)
            )
            """,
            """
            CREATE TABLE user_roles (
                user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
                role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
                PRIMARY KEY (user_id, role_id)
            )
            """,
            "CREATE INDEX user_roles_role ON user_roles (role_id)",
            """
            CREATE TABLE signing_keys (
                kid TEXT PRIMARY KEY,
                state TEXT NOT NULL,
                public_key_pem TEXT NOT NULL,
                private_key TEXT NOT NULL,
                created_at TEXT NOT NULL,
                current_since TEXT,
                current_until TEXT,
                revoked_at TEXT
            )
            """,
        ]),
        Migration(version: 2, name: "sign-in", statements: [
            """
            CREATE TABLE login_transactions (
                id TEXT PRIMARY KEY,
                client_id TEXT NOT NULL,
                request TEXT NOT NULL,
                csrf_digest TEXT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE sessions (
                id TEXT PRIMARY KEY,
                secret_digest TEXT NOT NULL UNIQUE,
                user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
                auth_time BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                revoked_at BIGINT
            )
            """,
            """
            CREATE TABLE authorization_codes (
                code_digest TEXT PRIMARY KEY,
                family_id TEXT NOT NULL,
                client_id TEXT NOT NULL,
                user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
                redirect_uri TEXT NOT NULL,
                scope TEXT NOT NULL,
                audience TEXT,
                nonce TEXT,
                code_challenge TEXT,
                code_challenge_method TEXT,
                session_id TEXT,
                auth_time BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                used_at BIGINT
            )
            """,
            """
            CREATE TABLE refresh_tokens (
                token_digest TEXT PRIMARY KEY,
                family_id TEXT NOT NULL,
                client_id TEXT NOT NULL,
                user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
                scope TEXT NOT NULL,
                audience TEXT,
                session_id TEXT,
                auth_time BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                rotated_at BIGINT,
                revoked_at BIGINT
            )
            """,
            "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)",
            """
            CREATE TABLE login_failures (
                user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
                ip TEXT NOT NULL,
                failures BIGINT NOT NULL,
                last_failure_at BIGINT NOT NULL,
                PRIMARY KEY (user_id, ip)
            )
            """,
        ]),
        Migration(version: 3, name: "actions", statements: [
            """
            CREATE TABLE actions (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                trigger_id TEXT NOT NULL,
                code TEXT NOT NULL,
                deployed_code TEXT,
                deployed_version BIGINT NOT NULL DEFAULT 0,
                secrets TEXT NOT NULL DEFAULT '{}',
                configuration TEXT NOT NULL DEFAULT '{}',
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE action_bindings (
                trigger_id TEXT NOT NULL,
                position BIGINT NOT NULL,
                action_id TEXT NOT NULL REFERENCES actions (id) ON DELETE CASCADE,
                PRIMARY KEY (trigger_id, position)
            )
            """,
            """
            CREATE TABLE action_executions (
                id TEXT PRIMARY KEY,
                trigger_id TEXT NOT NULL,
                status TEXT NOT NULL,
                results TEXT NOT NULL,
                created_at TEXT NOT NULL
            )
            """,
            "ALTER TABLE authorization_codes ADD COLUMN custom_claims TEXT",
            "ALTER TABLE refresh_tokens ADD COLUMN custom_claims TEXT",
        ]),
        Migration(version: 4, name: "action-versions", statements: [
            """
            CREATE TABLE action_versions (
                id TEXT PRIMARY KEY,
                action_id TEXT NOT NULL REFERENCES actions (id) ON DELETE CASCADE,
                number BIGINT NOT NULL,
                code TEXT NOT NULL,
                created_at TEXT NOT NULL,
                UNIQUE (action_id, number)
            )
            """,
            """
            INSERT INTO action_versions (id, action_id, number, code, created_at)
            SELECT 'actv_' || substr(id, 5) || '_' || deployed_version, id, deployed_version, deployed_code, updated_at
            FROM actions WHERE deployed_code IS NOT NULL
            """,
        ]),
        Migration(version: 5, name: "analytics", statements: [
            """
            CREATE TABLE analytics_workspaces (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                admin_token TEXT NOT NULL,
                admin_token_digest TEXT NOT NULL UNIQUE,
                settings TEXT NOT NULL DEFAULT '{}',
                created_at TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE analytics_datasources (
                id TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL REFERENCES analytics_workspaces (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                definition TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                UNIQUE (workspace_id, name)
            )
            """,
            """
            CREATE TABLE analytics_pipes (
                id TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL REFERENCES analytics_workspaces (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                definition TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                UNIQUE (workspace_id, name)
            )
            """,
            """
            CREATE TABLE analytics_tokens (
                id TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL REFERENCES analytics_workspaces (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                token_digest TEXT NOT NULL UNIQUE,
                scopes TEXT NOT NULL,
                created_at TEXT NOT NULL,
                UNIQUE (workspace_id, name)
            )
            """,
        ]),
        Migration(version: 6, name: "charts", statements: [
            """
            CREATE TABLE analytics_charts (
                id TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL REFERENCES analytics_workspaces (id) ON DELETE CASCADE,
                pipe TEXT NOT NULL,
                spec TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )
            """,
        ]),
        // Settings the tenant file owns, one JSON value per name (`actions.outbound`).
        Migration(version: 7, name: "tenant-settings", statements: [
            """
            CREATE TABLE tenant_settings (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )
            """,
        ]),
        // The directory (UserHub's Admin API): users with their profile as JSON beside the columns lists filter and
        // sort on, the accounts that link them to a connection's users, connections, and admin API keys (digests).
        Migration(version: 8, name: "directory", statements: [
            """
            CREATE TABLE directory_users (
                id TEXT PRIMARY KEY,
                unique_id TEXT UNIQUE,
                profile TEXT NOT NULL,
                display_name_key TEXT NOT NULL,
                email_key TEXT NOT NULL,
                state TEXT NOT NULL,
                signup_time TEXT,
                create_time TEXT NOT NULL,
                update_time TEXT NOT NULL,
                delete_time TEXT
            )
            """,
            "CREATE INDEX directory_users_display_name ON directory_users (display_name_key, id)",
            "CREATE INDEX directory_users_email ON directory_users (email_key, id)",
            "CREATE INDEX directory_users_create_time ON directory_users (create_time, id)",
            """
            CREATE TABLE directory_connections (
                id TEXT PRIMARY KEY,
                unique_id TEXT UNIQUE,
                display_name TEXT NOT NULL,
                type TEXT NOT NULL,
                config TEXT NOT NULL,
                state TEXT NOT NULL,
                state_reason TEXT,
                sync_state TEXT NOT NULL,
                create_time TEXT NOT NULL,
                update_time TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE directory_accounts (
                connection_id TEXT NOT NULL REFERENCES directory_connections (id) ON DELETE CASCADE,
                external_id TEXT NOT NULL,
                user_id TEXT NOT NULL REFERENCES directory_users (id) ON DELETE CASCADE,
                profile TEXT NOT NULL,
                pull_time TEXT,
                push_time TEXT,
                seen_sync TEXT,
                create_time TEXT NOT NULL,
                update_time TEXT NOT NULL,
                PRIMARY KEY (connection_id, external_id)
            )
            """,
            "CREATE INDEX directory_accounts_user ON directory_accounts (user_id)",
            """
            CREATE TABLE directory_api_keys (
                id TEXT PRIMARY KEY,
                digest TEXT NOT NULL UNIQUE,
                description TEXT NOT NULL,
                integration TEXT,
                expire_time TEXT,
                create_time TEXT NOT NULL
            )
            """,
        ]),
        // Auth0's bulk user exports: the job, and the capability in its download URL (a read of users this same
        // store holds, so kept as is, and only until it expires).
        Migration(version: 9, name: "user-exports", statements: [
            """
            CREATE TABLE user_exports (
                id TEXT PRIMARY KEY,
                connection_id TEXT,
                format TEXT NOT NULL,
                record_limit INTEGER,
                fields TEXT NOT NULL,
                download_token TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL
            )
            """,
        ]),
        // Outbound `users.changed` webhooks read users in update order from a cursor each endpoint keeps: a change
        // is its user's update_time, so no outbox table doubles every write.
        Migration(version: 10, name: "directory-webhooks", statements: [
            "CREATE INDEX directory_users_update_time ON directory_users (update_time, id)",
            """
            CREATE TABLE directory_webhooks (
                id TEXT PRIMARY KEY,
                url TEXT NOT NULL,
                signing_secret TEXT NOT NULL,
                cursor_time TEXT NOT NULL,
                cursor_id TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                next_attempt_time TEXT,
                last_error TEXT,
                last_delivery_time TEXT,
                delivered INTEGER NOT NULL,
                create_time TEXT NOT NULL,
                update_time TEXT NOT NULL
            )
            """,
        ]),
        Migration(version: 11, name: "multifactor-and-paused-sign-ins", statements: [
            // How the session's user proved who they are: [{name, time}], `pwd` first, `mfa` once a code was given.
            "ALTER TABLE sessions ADD COLUMN methods TEXT",
            """
            CREATE TABLE user_authenticators (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
                type TEXT NOT NULL,
                secret TEXT NOT NULL,
                confirmed INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                last_auth_at TEXT,
                last_step BIGINT
            )
            """,
            "CREATE INDEX user_authenticators_user ON user_authenticators (user_id)",
            """
            CREATE TABLE paused_sign_ins (
                state_digest TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                request TEXT NOT NULL,
                result TEXT NOT NULL,
                resume TEXT,
                csrf_digest TEXT,
                expires_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE remembered_browsers (
                secret_digest TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
                expires_at BIGINT NOT NULL
            )
            """,
        ]),
        // `limits.rps` counted where every instance sharing the store sees it.
        Migration(version: 12, name: "shared-rate-windows", statements: [
            """
            CREATE TABLE analytics_rate_windows (
                window_key TEXT PRIMARY KEY,
                window_second BIGINT NOT NULL,
                hits BIGINT NOT NULL
            )
            """,
        ]),
        // What each group of cached rows is at, for processes sharing an SQLite file (PostgreSQL uses NOTIFY).
        Migration(version: 13, name: "change-generations", statements: [
            "CREATE TABLE tessera_changes (name TEXT PRIMARY KEY, generation BIGINT NOT NULL)",
        ]),
        // Rows appended to each data source per minute, for the console's ingestion pictures.
        Migration(version: 14, name: "ingestion-minutes", statements: [
            """
            CREATE TABLE analytics_ingestion (
                workspace_id TEXT NOT NULL,
                datasource TEXT NOT NULL,
                minute BIGINT NOT NULL,
                rows_appended BIGINT NOT NULL,
                rows_quarantined BIGINT NOT NULL,
                PRIMARY KEY (workspace_id, datasource, minute)
            )
            """,
            // The retention delete reads by minute alone; the console's sign-ins per hour read sessions by time.
            "CREATE INDEX analytics_ingestion_minute ON analytics_ingestion (minute)",
            "CREATE INDEX sessions_auth_time ON sessions (auth_time)",
        ]),
    ]
}
