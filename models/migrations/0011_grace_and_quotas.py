from tortoise import migrations
from tortoise.migrations import operations as ops
from models.registry import ChangeOp
from tortoise import fields
from tortoise.indexes import Index

# Clocks started before attaches were recorded (by any check) are kept, so no visitor in
# grace is cut off by the upgrade; they carry no operator and end on their own schedule.
KEEP_CLOCKS = (
    "INSERT INTO imei_first_attach (imei, operator_code, msisdn, source, attached_at) "
    "SELECT imei, '', '', 'LEGACY', first_seen_at FROM imei_first_seen"
)
FEED_THEM = (
    "INSERT INTO greylist_change (op, status, imei, operator_code, since, reason, at) "
    "SELECT 'ADD', 'GRACE_PERIOD', imei, '', attached_at, 'LEGACY', attached_at "
    "FROM imei_first_attach ORDER BY attached_at, imei"
)
# Open clone suspicions are on the grey list too.
FEED_SUSPICIONS = (
    "INSERT INTO greylist_change (op, status, imei, operator_code, since, reason, at) "
    "SELECT 'ADD', 'CLONE_SUSPECTED', imei, '', detected_at, '', detected_at "
    "FROM clone_suspicion WHERE status = 'OPEN' ORDER BY detected_at, imei"
)


class Migration(migrations.Migration):
    dependencies = [('models', '0010_event_log')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CheckQuotaWindow',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client_id', fields.IntField()),
                ('minute', fields.BigIntField()),
                ('day', fields.CharField(max_length=10)),
                ('reserved', fields.IntField(default=0)),
                ('checked', fields.IntField(default=0)),
            ],
            options={'table': 'check_quota_window', 'app': 'models', 'unique_together': (('client_id', 'minute'),), 'indexes': [Index(fields=['day', 'client_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FirstAttach',
            fields=[
                ('imei', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=15)),
                ('operator_code', fields.CharField(default='', max_length=16)),
                ('client_id', fields.IntField(null=True)),
                ('msisdn', fields.CharField(default='', max_length=15)),
                ('source', fields.CharField(default='CHECK', max_length=16)),
                ('attached_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'imei_first_attach', 'app': 'models', 'indexes': [Index(fields=['operator_code', 'attached_at'])], 'pk_attr': 'imei', 'table_description': "An unregistered IMEI's first attach to a network: the start of its grace period."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GreylistChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('op', fields.CharEnumField(description='ADD: ADD\nREMOVE: REMOVE\nUPDATE: UPDATE', enum_type=ChangeOp, max_length=8)),
                ('status', fields.CharField(max_length=16)),
                ('imei', fields.CharField(db_index=True, max_length=15)),
                ('operator_code', fields.CharField(default='', max_length=16)),
                ('since', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reason', fields.CharField(default='', max_length=64)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'greylist_change', 'app': 'models', 'pk_attr': 'id', 'table_description': "One change of the grey list: the operators' `greylistChanges` feed."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='MachineClient',
            name='checks_per_minute',
            field=fields.IntField(null=True),
        ),
        ops.RunSQL(KEEP_CLOCKS, reverse_sql="DELETE FROM imei_first_attach"),
        ops.RunSQL(FEED_THEM, reverse_sql="DELETE FROM greylist_change"),
        ops.RunSQL(FEED_SUSPICIONS, reverse_sql="DELETE FROM greylist_change"),
        ops.DeleteModel(name='ImeiFirstSeen'),
    ]
