from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.roles import ClientKind, FirmKind, Role
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('actor_kind', fields.CharField(max_length=16)),
                ('actor_id', fields.IntField(null=True)),
                ('actor_name', fields.CharField(max_length=255)),
                ('actor_role', fields.CharField(max_length=32)),
                ('firm_id', fields.IntField(null=True, db_index=True)),
                ('action', fields.CharField(db_index=True, max_length=64)),
                ('subject_type', fields.CharField(max_length=64)),
                ('subject_id', fields.CharField(max_length=64)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('request_id', fields.CharField(default='', max_length=64)),
                ('ip', fields.CharField(default='', max_length=64)),
            ],
            options={'table': 'audit_event', 'app': 'models', 'indexes': [Index(fields=['subject_type', 'subject_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Firm',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=255)),
                ('tax_number', fields.CharField(unique=True, max_length=20)),
                ('kind', fields.CharEnumField(description='IMPORTER: IMPORTER\nMANUFACTURER: MANUFACTURER\nIMPORTER_MANUFACTURER: IMPORTER_MANUFACTURER', enum_type=FirmKind, max_length=32)),
                ('contact_email', fields.CharField(max_length=254)),
                ('allowed_ips', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'firm', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An importer or manufacturer (Tebliğ art. 8(1)): a legal entity with several users.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MachineClient',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=255)),
                ('kind', fields.CharEnumField(description='OPERATOR: OPERATOR\nE_DEVLET: E_DEVLET', enum_type=ClientKind, max_length=16)),
                ('operator_code', fields.CharField(null=True, unique=True, max_length=16)),
                ('allowed_ips', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'machine_client', 'app': 'models', 'pk_attr': 'id', 'table_description': "A system that calls us: an operator's network/AKM systems or the e-Devlet adapter."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=64)),
                ('full_name', fields.CharField(max_length=255)),
                ('email', fields.CharField(max_length=254)),
                ('role', fields.CharEnumField(description='FIRM_USER: FIRM_USER\nFIRM_SUPERVISOR: FIRM_SUPERVISOR\nSTAFF_REVIEWER: STAFF_REVIEWER\nSTAFF_ARCHIVE: STAFF_ARCHIVE\nSTAFF_ADMIN: STAFF_ADMIN\nOPERATOR: OPERATOR\nE_DEVLET: E_DEVLET\nSYSTEM: SYSTEM', enum_type=Role, max_length=32)),
                ('firm', fields.ForeignKeyField('models.Firm', source_field='firm_id', null=True, db_constraint=True, to_field='id', related_name='users', on_delete=OnDelete.RESTRICT)),
                ('password_hash', fields.CharField(max_length=255)),
                ('must_change_password', fields.BooleanField(default=True)),
                ('failed_logins', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'user_account', 'app': 'models', 'pk_attr': 'id', 'table_description': "A person: a firm's user or supervisor, or a member of the regulator's staff."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AccessToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.MachineClient', source_field='client_id', null=True, db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('label', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'access_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A bearer token: only its keyed hash is stored, the token itself is shown once.'},
            bases=['Model'],
        ),
    ]
