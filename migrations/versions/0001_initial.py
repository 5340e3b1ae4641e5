"""initial schema: accounts, sessions, keys, audit log, calls and cases

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 04:12:58.446031


Written by hand after autogenerate: the audit chain's head row, and on PostgreSQL the triggers that
refuse UPDATE, DELETE and TRUNCATE on the audit log.
"""
from alembic import op
import sqlalchemy as sa


GENESIS = "0" * 64
REFUSE_FUNCTION = """
CREATE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry is append-only: % refused', TG_OP;
END
$$ LANGUAGE plpgsql;
"""


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('object_type', sa.String(length=24), nullable=True),
    sa.Column('object_id', sa.String(length=40), nullable=True),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entry_case_id', ['case_id'], unique=False)
        batch_op.create_index('ix_audit_entry_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index('ix_audit_entry_org_at', ['organisation_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_entry_user_id', ['user_id'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('blind_index',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=24), nullable=False),
    sa.Column('index_key_id', sa.String(length=8), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('owner_type', sa.String(length=24), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blind_index'))
    )
    with op.batch_alter_table('blind_index', schema=None) as batch_op:
        batch_op.create_index('ix_blind_index_lookup', ['field', 'digest', 'index_key_id'], unique=False)
        batch_op.create_index('ix_blind_index_owner', ['owner_type', 'owner_id'], unique=False)

    op.create_table('kek_record',
    sa.Column('kek_id', sa.String(length=8), nullable=False),
    sa.Column('fingerprint', sa.String(length=40), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('kek_id', name=op.f('pk_kek_record'))
    )
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('province_code', sa.String(length=8), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('code', name=op.f('uq_organisation_code')),
    sa.UniqueConstraint('name', name=op.f('uq_organisation_name'))
    )
    op.create_table('case_counter',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_case_counter_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('organisation_id', 'year', name=op.f('pk_case_counter'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(), nullable=False),
    sa.Column('totp_secret_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('totp_enabled', sa.Boolean(), nullable=False),
    sa.Column('totp_last_step', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('key_id', sa.Uuid(), nullable=True),
    sa.Column('key_kek_id', sa.String(length=8), nullable=True),
    sa.Column('key_wrapped', sa.LargeBinary(), nullable=True),
    sa.Column('key_destroyed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_user_account_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('case_record',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=False),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('erased_at', sa.DateTime(), nullable=True),
    sa.Column('survivor_sex', sa.String(length=8), nullable=False),
    sa.Column('survivor_age_band', sa.String(length=8), nullable=False),
    sa.Column('province_code', sa.String(length=8), nullable=True),
    sa.Column('commune_code', sa.String(length=8), nullable=True),
    sa.Column('survivor_name_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('survivor_phone_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('survivor_address_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('safe_contact_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('summary_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('key_id', sa.Uuid(), nullable=True),
    sa.Column('key_kek_id', sa.String(length=8), nullable=True),
    sa.Column('key_wrapped', sa.LargeBinary(), nullable=True),
    sa.Column('key_destroyed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['user_account.id'], name=op.f('fk_case_record_assigned_to_id_user_account')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user_account.id'], name=op.f('fk_case_record_opened_by_id_user_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_case_record_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_record')),
    sa.UniqueConstraint('number', name=op.f('uq_case_record_number'))
    )
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_record_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_record_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_record_opened_by_id'), ['opened_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_record_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_record_status'), ['status'], unique=False)

    op.create_table('recovery_code',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_recovery_code_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)

    op.create_table('web_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('authenticated_at', sa.DateTime(), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_web_session_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_session'))
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_last_seen_at'), ['last_seen_at'], unique=False)
        batch_op.create_index('ix_web_session_user_id', ['user_id'], unique=False)

    op.create_table('call',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('taken_by_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('caller_type', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.String(length=24), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('caller_phone_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('caller_name_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('narrative_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('key_id', sa.Uuid(), nullable=True),
    sa.Column('key_kek_id', sa.String(length=8), nullable=True),
    sa.Column('key_wrapped', sa.LargeBinary(), nullable=True),
    sa.Column('key_destroyed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_call_case_id_case_record')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_call_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['taken_by_id'], ['user_account.id'], name=op.f('fk_call_taken_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call'))
    )
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_taken_by_id'), ['taken_by_id'], unique=False)

    op.execute(sa.text(f"INSERT INTO audit_head (id, seq, last_hash) VALUES (1, 0, '{GENESIS}')"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REFUSE_FUNCTION)
        op.execute("CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry "
                   "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()")
        op.execute("CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_change ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_taken_by_id'))
        batch_op.drop_index(batch_op.f('ix_call_started_at'))
        batch_op.drop_index(batch_op.f('ix_call_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_call_case_id'))

    op.drop_table('call')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index('ix_web_session_user_id')
        batch_op.drop_index(batch_op.f('ix_web_session_last_seen_at'))

    op.drop_table('web_session')
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))

    op.drop_table('recovery_code')
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_record_status'))
        batch_op.drop_index(batch_op.f('ix_case_record_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_case_record_opened_by_id'))
        batch_op.drop_index(batch_op.f('ix_case_record_opened_at'))
        batch_op.drop_index(batch_op.f('ix_case_record_assigned_to_id'))

    op.drop_table('case_record')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_organisation_id'))

    op.drop_table('user_account')
    op.drop_table('case_counter')
    op.drop_table('organisation')
    op.drop_table('kek_record')
    with op.batch_alter_table('blind_index', schema=None) as batch_op:
        batch_op.drop_index('ix_blind_index_owner')
        batch_op.drop_index('ix_blind_index_lookup')

    op.drop_table('blind_index')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entry_user_id')
        batch_op.drop_index('ix_audit_entry_org_at')
        batch_op.drop_index('ix_audit_entry_object')
        batch_op.drop_index('ix_audit_entry_case_id')

    op.drop_table('audit_entry')
