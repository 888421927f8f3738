from tortoise import migrations
from tortoise.migrations import operations as ops
from models.events import EventTopic
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_verification_failed_batches')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EventLog',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('topic', fields.CharEnumField(description='APPLICATION: APPLICATION\nREGISTRATION: REGISTRATION\nJOB: JOB', enum_type=EventTopic, max_length=16)),
                ('subject_id', fields.IntField()),
                ('firm_id', fields.IntField(null=True)),
                ('client_id', fields.IntField(null=True)),
                ('kind', fields.CharField(default='', max_length=32)),
                ('status', fields.CharField(max_length=32)),
                ('reason', fields.TextField(default='', unique=False)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'event_log', 'app': 'models', 'indexes': [Index(fields=['topic', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
