from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from models.documents import IssuedKind

# Issue 16: what the Kurum signs is kept with its verification code; a mail may carry a signed
# document; the Ek-1 petition prints the firm's address, phone and authorised signatory.
# Database defaults fill the rows that exist already.


class Migration(migrations.Migration):
    dependencies = [('models', '0015_device_reasons')]

    initial = False

    operations = [
        ops.CreateModel(
            name='IssuedDocument',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=16)),
                ('kind', fields.CharEnumField(description='FEE_NOTICE: FEE_NOTICE\nPERMIT: PERMIT\nCOVER_LETTER: COVER_LETTER\nREPLACEMENT_LETTER: REPLACEMENT_LETTER\nCORRECTION_LETTER: CORRECTION_LETTER', enum_type=IssuedKind, max_length=32)),
                ('number', fields.CharField(max_length=64)),
                ('firm_id', fields.IntField(db_index=True)),
                ('application_id', fields.IntField(null=True)),
                ('file_id', fields.IntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('signatory_name', fields.CharField(max_length=255)),
                ('signatory_title', fields.CharField(default='', max_length=255)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'issued_document', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Notification',
            name='attachment_file_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Firm', name='address', field=fields.TextField(default='', db_default='')
        ),
        ops.AddField(
            model_name='Firm',
            name='phone',
            field=fields.CharField(default='', db_default='', max_length=32),
        ),
        ops.AddField(
            model_name='Firm',
            name='signatory_name',
            field=fields.CharField(default='', db_default='', max_length=255),
        ),
        ops.AddField(
            model_name='Firm',
            name='signatory_title',
            field=fields.CharField(default='', db_default='', max_length=255),
        ),
    ]
