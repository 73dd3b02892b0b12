-- DealerCover database roles (docs/deployment.md, docs/security.md).
--
-- Two roles: the OWNER owns the schema's tables and runs the migrations (`flask db upgrade`);
-- the APP role is what the web and worker processes connect as. The app role reads and writes
-- business rows (under row-level security), may only SELECT and INSERT audit records (no UPDATE,
-- DELETE or TRUNCATE), only reads alembic_version, and owns the entity tables the configuration
-- engine creates at run time. Neither is a superuser or may bypass row-level security.
--
-- Run as a superuser on the app's database, then set the passwords:
--   psql "$ADMIN_DATABASE_URL" -v owner=dealercover_owner -v app=dealercover_app \
--        -f scripts/db_roles.sql
--   psql "$ADMIN_DATABASE_URL" -c '\password dealercover_owner' -c '\password dealercover_app'
-- `flask db-roles` runs the DO blocks below (passing the names the same way), and then also puts
-- every tenant table of the current code and every entity table behind row-level security and
-- refuses TRUNCATE on the audit table: prefer it, and run it again after every upgrade.
-- Idempotent: run it as often as you like.

SELECT set_config('dealercover.owner_role', :'owner', false),
       set_config('dealercover.app_role', :'app', false);

DO $$
DECLARE
    owner_role text := current_setting('dealercover.owner_role');
    app_role text := current_setting('dealercover.app_role');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = owner_role) THEN
        EXECUTE format('CREATE ROLE %I LOGIN', owner_role);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) THEN
        EXECUTE format('CREATE ROLE %I LOGIN', app_role);
    END IF;
    EXECUTE format('ALTER ROLE %I NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB', owner_role);
    EXECUTE format('ALTER ROLE %I NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB', app_role);
    -- The app creates entity tables when an entity document is published.
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA public TO %I, %I', owner_role, app_role);
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I, %I', current_database(), owner_role, app_role);
END
$$;

DO $$
DECLARE
    owner_role text := current_setting('dealercover.owner_role');
    app_role text := current_setting('dealercover.app_role');
    item record;
BEGIN
    -- Tables: the owner's, except entity tables (x_name, x<tenant>_name), which the app alters
    -- on publish and so must own (they are FORCEd under row-level security for that reason).
    FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
        IF item.tablename ~ '^x[0-9]*_' THEN
            EXECUTE format('ALTER TABLE public.%I OWNER TO %I', item.tablename, app_role);
        ELSE
            EXECUTE format('ALTER TABLE public.%I OWNER TO %I', item.tablename, owner_role);
        END IF;
    END LOOP;
    -- Sequences not tied to a table column follow the owner (tied ones follow their table).
    FOR item IN
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'S' AND NOT EXISTS (
            SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
    LOOP
        EXECUTE format('ALTER SEQUENCE public.%I OWNER TO %I', item.relname, owner_role);
    END LOOP;

    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I',
                   app_role);
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO %I', app_role);
    -- Tables and sequences the owner creates later (migrations) get the same rights.
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                   'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', owner_role, app_role);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                   'GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I', owner_role, app_role);

    -- The audit trail is append-only for the app: it reads and adds, never changes or removes.
    EXECUTE 'REVOKE ALL ON public.audit_record FROM PUBLIC';
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER '
                   'ON public.audit_record FROM %I', app_role);
    EXECUTE format('GRANT SELECT, INSERT ON public.audit_record TO %I', app_role);
    -- The schema's revision is the migrations' business.
    IF to_regclass('public.alembic_version') IS NOT NULL THEN
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON public.alembic_version FROM %I',
                       app_role);
    END IF;
END
$$;
