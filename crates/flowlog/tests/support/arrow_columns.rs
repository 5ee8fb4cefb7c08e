//! Arrow columns: AWS's Parquet names and types (`spec/flowlogs.md` §2, §7), typed values,
//! and conversion errors.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use flowwatch_flowlog::{
    Field, FlowLogError, FlowRecord, LogFormat, arrow_schema, from_record_batch, to_record_batch,
};

/// Parquet types of spec/flowlogs.md §2 (the VPC field table), every VPC field.
#[test]
fn arrow_schema_matches_the_spec_table() {
    const INT_32: DataType = DataType::Int32;
    const INT_64: DataType = DataType::Int64;
    const STRING: DataType = DataType::Utf8;
    let spec: [(&str, DataType); 42] = [
        ("version", INT_32),
        ("account-id", STRING),
        ("interface-id", STRING),
        ("srcaddr", STRING),
        ("dstaddr", STRING),
        ("srcport", INT_32),
        ("dstport", INT_32),
        ("protocol", INT_32),
        ("packets", INT_64),
        ("bytes", INT_64),
        ("start", INT_64),
        ("end", INT_64),
        ("action", STRING),
        ("log-status", STRING),
        ("vpc-id", STRING),
        ("subnet-id", STRING),
        ("instance-id", STRING),
        ("tcp-flags", INT_32),
        ("type", STRING),
        ("pkt-srcaddr", STRING),
        ("pkt-dstaddr", STRING),
        ("region", STRING),
        ("az-id", STRING),
        ("sublocation-type", STRING),
        ("sublocation-id", STRING),
        ("pkt-src-aws-service", STRING),
        ("pkt-dst-aws-service", STRING),
        ("flow-direction", STRING),
        ("traffic-path", INT_32),
        ("ecs-cluster-arn", STRING),
        ("ecs-cluster-name", STRING),
        ("ecs-container-instance-arn", STRING),
        ("ecs-container-instance-id", STRING),
        ("ecs-container-id", STRING),
        ("ecs-second-container-id", STRING),
        ("ecs-service-name", STRING),
        ("ecs-task-definition-arn", STRING),
        ("ecs-task-arn", STRING),
        ("ecs-task-id", STRING),
        ("reject-reason", STRING),
        ("resource-id", STRING),
        ("encryption-status", INT_32),
    ];
    let format = LogFormat::parse(
        &spec
            .iter()
            .map(|(n, _)| format!("${{{n}}}"))
            .collect::<Vec<_>>()
            .join(" "),
    )
    .unwrap();
    assert_eq!(format.version(), 10);
    let schema = arrow_schema(&format);
    for (col, (name, ty)) in schema.fields().iter().zip(&spec) {
        assert_eq!(col.name(), &name.replace('-', "_"));
        assert_eq!(col.data_type(), ty, "{name}");
        assert!(col.is_nullable());
    }
    assert_eq!(schema.fields().len(), 42);
    let default = arrow_schema(&LogFormat::default_vpc());
    assert_eq!(default.field(1).name(), "account_id");
    assert_eq!(default.field(7).data_type(), &DataType::Int32);
    assert_eq!(default.field(13).name(), "log_status");
}

#[test]
fn record_batch_holds_typed_values() {
    let d = LogFormat::default_vpc();
    let lines = [
        "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
        "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
        "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK",
    ];
    let records: Vec<FlowRecord> = lines.iter().map(|l| d.decode(l).unwrap()).collect();
    let batch = to_record_batch(&d, &records).unwrap();
    assert_eq!(batch.num_rows(), 3);
    let col = |name: &str| batch.column_by_name(name).unwrap().clone();
    let version = col("version");
    let version = version.as_any().downcast_ref::<Int32Array>().unwrap();
    assert_eq!(version.values().to_vec(), vec![2, 2, 2]);
    let src = col("srcaddr");
    let src = src.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(src.value(0), "172.31.16.139");
    assert!(src.is_null(1));
    assert_eq!(src.value(2), "2001:db8:1234:a100:8d6e:3477:df66:f105");
    let dport = col("dstport");
    let dport = dport.as_any().downcast_ref::<Int32Array>().unwrap();
    assert_eq!(
        (dport.value(0), dport.is_null(1), dport.value(2)),
        (22, true, 22)
    );
    let bytes = col("bytes");
    let bytes = bytes.as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(
        (bytes.value(0), bytes.is_null(1), bytes.value(2)),
        (4249, true, 8855)
    );
    let end = col("end");
    let end = end.as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(end.value(1), 1431280934);
    let status = col("log_status");
    let status = status.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!((status.value(0), status.value(1)), ("OK", "NODATA"));
    let action = col("action");
    assert_eq!(action.null_count(), 1);

    assert_eq!(from_record_batch(&batch).unwrap(), records);
}

#[test]
fn arrow_rejects_counts_beyond_int64_and_wrong_column_types() {
    let f = LogFormat::parse("${bytes}").unwrap();
    let big = FlowRecord {
        bytes: Some(u64::MAX),
        ..FlowRecord::default()
    };
    assert!(matches!(
        to_record_batch(&f, &[big]),
        Err(FlowLogError::Column { .. })
    ));
    let batch = RecordBatch::try_from_iter([(
        "srcport",
        Arc::new(StringArray::from(vec!["22"])) as ArrayRef,
    )])
    .unwrap();
    assert!(matches!(
        from_record_batch(&batch),
        Err(FlowLogError::Column { .. })
    ));
    let batch =
        RecordBatch::try_from_iter([("srcport", Arc::new(Int32Array::from(vec![-1])) as ArrayRef)])
            .unwrap();
    assert!(from_record_batch(&batch).is_err());
    let batch = RecordBatch::try_from_iter([(
        "srcport",
        Arc::new(Int32Array::from(vec![70000])) as ArrayRef,
    )])
    .unwrap();
    assert!(matches!(
        from_record_batch(&batch),
        Err(FlowLogError::InvalidValue {
            field: Field::SrcPort,
            ..
        })
    ));
}
