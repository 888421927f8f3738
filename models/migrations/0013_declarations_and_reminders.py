from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0012_verdicts_history')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CustomsReminder',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application_id', fields.IntField()),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('days_before', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'customs_reminder', 'app': 'models', 'unique_together': (('application_id', 'due_at', 'days_before'),), 'pk_attr': 'id', 'table_description': 'A reminder of the customs-documents deadline (guide §6) queued for an application:'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeclarationDifference',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application_id', fields.IntField(db_index=True)),
                ('brand', fields.CharField(max_length=128)),
                ('model_code', fields.CharField(max_length=128)),
                ('declared_count', fields.IntField()),
                ('listed_count', fields.IntField()),
            ],
            options={'table': 'declaration_difference', 'app': 'models', 'pk_attr': 'id', 'table_description': "A brand/model whose declared count differs from the device list's (art. 10(3)),"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeclaredDevice',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application_id', fields.IntField(db_index=True)),
                ('position', fields.IntField()),
                ('brand', fields.CharField(max_length=128)),
                ('model_code', fields.CharField(max_length=128)),
                ('device_count', fields.IntField()),
            ],
            options={'table': 'declared_device', 'app': 'models', 'unique_together': (('application_id', 'position'),), 'pk_attr': 'id', 'table_description': "One line of what the firm declares it imported or made (Ek-1's MARKA / MODEL / ADET"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Application',
            name='status_reason_en',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddIndex(
            model_name='Device',
            index=Index(fields=['application_id', 'brand', 'model_code']),
        ),
    ]
