from tortoise import migrations
from tortoise.migrations import operations as ops
from models.network import CloneStatus
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_registry_and_applications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CloneSuspicion',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('imei', fields.CharField(unique=True, max_length=15)),
                ('firm_id', fields.IntField(null=True, db_index=True)),
                ('brand', fields.CharField(default='', max_length=128)),
                ('model_code', fields.CharField(default='', max_length=128)),
                ('imsi_count', fields.IntField()),
                ('status', fields.CharEnumField(default=CloneStatus.OPEN, description='OPEN: OPEN\nCLOSED: CLOSED', enum_type=CloneStatus, max_length=8)),
                ('detected_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'clone_suspicion', 'app': 'models', 'indexes': [Index(fields=['status', 'id'])], 'pk_attr': 'id', 'table_description': 'A registered IMEI seen with more than one IMSI inside the detection window.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ImeiFirstSeen',
            fields=[
                ('imei', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=15)),
                ('first_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'imei_first_seen', 'app': 'models', 'pk_attr': 'imei', 'table_description': 'The first time an IMEI not on the whitelist was checked or observed.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ImeiPairing',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('imei', fields.CharField(unique=True, max_length=15)),
                ('msisdn', fields.CharField(max_length=15)),
                ('firm_id', fields.IntField(null=True, db_index=True)),
                ('paired_by', fields.CharField(default='', max_length=255)),
                ('paired_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'imei_pairing', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An IMEI allowed only with one phone number (Tebliğ art. 14), written by pairing.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NetworkObservation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('batch_id', fields.BigIntField(db_index=True)),
                ('operator_code', fields.CharField(max_length=16)),
                ('imei', fields.CharField(max_length=15)),
                ('imsi', fields.CharField(max_length=15)),
                ('msisdn', fields.CharField(default='', max_length=15)),
                ('seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'network_observation', 'app': 'models', 'indexes': [Index(fields=['imei', 'seen_at'])], 'pk_attr': 'id', 'table_description': 'An IMEI seen on a network with a subscriber (IMSI, MSISDN) at a time.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ObservationBatch',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('operator_code', fields.CharField(max_length=16)),
                ('batch_key', fields.CharField(max_length=128)),
                ('accepted', fields.IntField()),
                ('rejected', fields.IntField()),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('scanned_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'observation_batch', 'app': 'models', 'unique_together': (('operator_code', 'batch_key'),), 'pk_attr': 'id', 'table_description': 'One upload of network observations. A retry with the same key changes nothing.'},
            bases=['Model'],
        ),
    ]
