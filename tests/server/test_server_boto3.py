"""test_server_boto3.py - the SageMaker Feature Store API of `larder serve`
driven by real boto3 (and, for operations newer than the installed
botocore, by raw HTTP requests signed with botocore's SigV4Auth): every
operation, the record semantics of DESIGN.md 3.2, the compaction job API
(/v1/jobs) and --compaction-schedule, error codes and messages
as boto3 raises them, pagination, signed / unsigned / wrongly signed
requests, protected mode, /metrics and the graceful stop.
"""
import datetime
import http.client
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import larder_server  # noqa: E402
from larder_server import ACCESS_KEY, REGION, SECRET_KEY  # noqa: E402

import boto3  # noqa: E402
import botocore  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

SRV = None


def setUpModule():
    global SRV
    SRV = larder_server.Server(keys=True)


def tearDownModule():
    SRV.stop()
    SRV.cleanup()


def client(kind, secret=SECRET_KEY, unsigned=False, srv=None):
    cfg = Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=60,
                 signature_version=botocore.UNSIGNED if unsigned else None)
    return boto3.client(kind, endpoint_url=(srv or SRV).url, region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=secret, config=cfg)


def sm(**kw):
    return client("sagemaker", **kw)


def rt(**kw):
    return client("sagemaker-featurestore-runtime", **kw)


def raw(method, path, body=None, query=None, sign=True, secret=SECRET_KEY, srv=None):
    """A signed raw request; returns (status, headers, parsed JSON or None)."""
    srv = srv or SRV
    qs = ""
    if query:
        qs = "?" + urllib.parse.urlencode(query, doseq=True, quote_via=urllib.parse.quote)
    data = json.dumps(body).encode() if body is not None else b""
    req = AWSRequest(method=method, url=srv.url + path + qs, data=data,
                     headers={"Content-Type": "application/json"})
    if sign:
        SigV4Auth(Credentials(ACCESS_KEY, secret), "sagemaker", REGION).add_auth(req)
    prepared = req.prepare()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    try:
        conn.request(method, path + qs, body=data, headers=dict(prepared.headers))
        resp = conn.getresponse()
        text = resp.read()
        return resp.status, dict(resp.getheaders()), json.loads(text) if text else None
    finally:
        conn.close()


def now_iso(delta_s=0.0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def fg_request(name, extra_features=(), online=True, offline=True, ttl=None, storage=None):
    feats = [{"FeatureName": "meter_id", "FeatureType": "String"},
             {"FeatureName": "event_time", "FeatureType": "String"},
             {"FeatureName": "kwh", "FeatureType": "Fractional"},
             {"FeatureName": "reading", "FeatureType": "Integral"},
             {"FeatureName": "region", "FeatureType": "String"}]
    feats += list(extra_features)
    req = {"FeatureGroupName": name, "RecordIdentifierFeatureName": "meter_id",
           "EventTimeFeatureName": "event_time", "FeatureDefinitions": feats}
    if online:
        req["OnlineStoreConfig"] = {"EnableOnlineStore": True}
        if ttl:
            req["OnlineStoreConfig"]["TtlDuration"] = ttl
        if storage:
            req["OnlineStoreConfig"]["StorageType"] = storage
    if offline:
        req["OfflineStoreConfig"] = {"S3StorageConfig": {"S3Uri": "file://" + os.path.join(SRV.dir, "offline")}}
    return req


def create(name, **kw):
    sm().create_feature_group(**fg_request(name, **kw))
    return name


def rec(meter, t, kwh="1.5", reading="7", region="north", **extra):
    r = [{"FeatureName": "meter_id", "ValueAsString": meter},
         {"FeatureName": "event_time", "ValueAsString": t},
         {"FeatureName": "kwh", "ValueAsString": kwh},
         {"FeatureName": "reading", "ValueAsString": reading},
         {"FeatureName": "region", "ValueAsString": region}]
    for k, v in extra.items():
        if isinstance(v, list):
            r.append({"FeatureName": k, "ValueAsStringList": v})
        else:
            r.append({"FeatureName": k, "ValueAsString": v})
    return r


def as_dict(record):
    return {f["FeatureName"]: f.get("ValueAsString", f.get("ValueAsStringList")) for f in record}


class ErrorCase(unittest.TestCase):
    def assertClientError(self, code, fn, *a, status=None, contains=None, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(*a, **kw)
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], code, err)
        if status is not None:
            self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        if contains is not None:
            self.assertIn(contains, err["Message"])
        return err


class ControlPlane(ErrorCase):
    def test_create_describe_delete(self):
        name = create("cp-basic", ttl={"Unit": "Days", "Value": 3})
        d = sm().describe_feature_group(FeatureGroupName=name)
        self.assertEqual(d["FeatureGroupName"], name)
        self.assertEqual(d["FeatureGroupStatus"], "Created")
        self.assertEqual(d["RecordIdentifierFeatureName"], "meter_id")
        self.assertEqual(d["OnlineStoreConfig"]["TtlDuration"], {"Unit": "Days", "Value": 3})
        self.assertEqual(d["OfflineStoreStatus"]["Status"], "Active")
        self.assertTrue(d["FeatureGroupArn"].endswith(":feature-group/" + name))
        self.assertIsInstance(d["CreationTime"], datetime.datetime)
        self.assertIn("ResolvedOutputS3Uri", d["OfflineStoreConfig"]["S3StorageConfig"])
        self.assertIn("OnlineStoreTotalSizeBytes", d)
        # by ARN too
        d2 = sm().describe_feature_group(FeatureGroupName=d["FeatureGroupArn"])
        self.assertEqual(d2["FeatureGroupName"], name)
        self.assertClientError("ResourceInUse", sm().create_feature_group, **fg_request(name),
                               status=400)
        sm().delete_feature_group(FeatureGroupName=name)
        self.assertClientError("ResourceNotFound", sm().describe_feature_group,
                               FeatureGroupName=name, status=400, contains=name)
        self.assertClientError("ResourceNotFound", sm().delete_feature_group,
                               FeatureGroupName=name)

    def test_create_validation(self):
        bad = fg_request("x" * 65)
        self.assertClientError("ValidationException", sm().create_feature_group, **bad, status=400)
        bad = fg_request("cp-reserved", extra_features=[{"FeatureName": "write_time",
                                                         "FeatureType": "String"}])
        self.assertClientError("ValidationException", sm().create_feature_group, **bad,
                               contains="write_time")
        bad = fg_request("cp-nostore", online=False, offline=False)
        self.assertClientError("ValidationException", sm().create_feature_group, **bad)
        bad = fg_request("cp-badid")
        bad["RecordIdentifierFeatureName"] = "nope"
        self.assertClientError("ValidationException", sm().create_feature_group, **bad)

    def test_list_pagination_and_filters(self):
        names = ["lst-%02d" % i for i in range(5)]
        for n in names:
            create(n, offline=(n != "lst-04"))
        seen, token = [], None
        while True:
            kw = {"NameContains": "lst-", "SortBy": "Name", "SortOrder": "Ascending",
                  "MaxResults": 2}
            if token:
                kw["NextToken"] = token
            page = sm().list_feature_groups(**kw)
            self.assertLessEqual(len(page["FeatureGroupSummaries"]), 2)
            seen += [s["FeatureGroupName"] for s in page["FeatureGroupSummaries"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(seen, names)
        s = sm().list_feature_groups(NameContains="lst-", OfflineStoreStatusEquals="Disabled")
        self.assertEqual([x["FeatureGroupName"] for x in s["FeatureGroupSummaries"]], ["lst-04"])
        s = sm().list_feature_groups(NameContains="lst-", FeatureGroupStatusEquals="Created",
                                     SortBy="CreationTime", SortOrder="Descending")
        self.assertEqual(len(s["FeatureGroupSummaries"]), 5)
        future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
        s = sm().list_feature_groups(NameContains="lst-", CreationTimeAfter=future)
        self.assertEqual(s["FeatureGroupSummaries"], [])
        self.assertClientError("ValidationException", sm().list_feature_groups, MaxResults=101)
        self.assertClientError("ValidationException", sm().list_feature_groups,
                               NextToken="garbage-token")

    def test_search(self):
        for n in ("srch-alpha", "srch-beta", "other-gamma"):
            create(n)
        expr = {"Filters": [{"Name": "FeatureGroupName", "Operator": "Contains", "Value": "srch-"},
                            {"Name": "FeatureGroupStatus", "Operator": "Equals", "Value": "Created"}]}
        r = sm().search(Resource="FeatureGroup", SearchExpression=expr, SortBy="FeatureGroupName",
                        SortOrder="Ascending")
        got = [x["FeatureGroup"]["FeatureGroupName"] for x in r["Results"]]
        self.assertEqual(got, ["srch-alpha", "srch-beta"])
        past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        expr = {"Filters": [{"Name": "CreationTime", "Operator": "GreaterThan", "Value": past},
                            {"Name": "FeatureGroupName", "Operator": "Equals", "Value": "other-gamma"}]}
        r = sm().search(Resource="FeatureGroup", SearchExpression=expr)
        self.assertEqual(len(r["Results"]), 1)
        expr = {"Filters": [{"Name": "CreationTime", "Operator": "LessThan", "Value": past}]}
        self.assertEqual(sm().search(Resource="FeatureGroup", SearchExpression=expr)["Results"], [])
        # pagination
        expr = {"Filters": [{"Name": "FeatureGroupName", "Operator": "Contains", "Value": "srch-"}]}
        p1 = sm().search(Resource="FeatureGroup", SearchExpression=expr, MaxResults=1,
                         SortBy="FeatureGroupName", SortOrder="Ascending")
        p2 = sm().search(Resource="FeatureGroup", SearchExpression=expr, MaxResults=1,
                         SortBy="FeatureGroupName", SortOrder="Ascending", NextToken=p1["NextToken"])
        self.assertEqual([p1["Results"][0]["FeatureGroup"]["FeatureGroupName"],
                          p2["Results"][0]["FeatureGroup"]["FeatureGroupName"]],
                         ["srch-alpha", "srch-beta"])
        self.assertNotIn("NextToken", p2)
        self.assertClientError("ValidationException", sm().search, Resource="TrainingJob")

    def test_update_feature_group_and_metadata(self):
        name = create("cp-update")
        sm().update_feature_group(FeatureGroupName=name, FeatureAdditions=[
            {"FeatureName": "tariff", "FeatureType": "String"}])
        d = sm().describe_feature_group(FeatureGroupName=name)
        self.assertIn("tariff", [f["FeatureName"] for f in d["FeatureDefinitions"]])
        # the new feature is usable at once (every worker's cache was refreshed)
        for _ in range(4):
            rt().put_record(FeatureGroupName=name, Record=rec("m1", now_iso(), tariff="eco"))
        got = rt().get_record(FeatureGroupName=name, RecordIdentifierValueAsString="m1")
        self.assertEqual(as_dict(got["Record"])["tariff"], "eco")
        self.assertClientError("ValidationException", sm().update_feature_group,
                               FeatureGroupName=name, FeatureAdditions=[
                                   {"FeatureName": "tariff", "FeatureType": "String"}])
        sm().update_feature_group(FeatureGroupName=name,
                                  OnlineStoreConfig={"TtlDuration": {"Unit": "Hours", "Value": 5}})
        d = sm().describe_feature_group(FeatureGroupName=name)
        self.assertEqual(d["OnlineStoreConfig"]["TtlDuration"], {"Unit": "Hours", "Value": 5})

        sm().update_feature_metadata(FeatureGroupName=name, FeatureName="kwh",
                                     Description="energy used",
                                     ParameterAdditions=[{"Key": "unit", "Value": "kWh"}])
        m = sm().describe_feature_metadata(FeatureGroupName=name, FeatureName="kwh")
        self.assertEqual(m["Description"], "energy used")
        self.assertEqual(m["FeatureType"], "Fractional")
        self.assertEqual(m["Parameters"], [{"Key": "unit", "Value": "kWh"}])
        sm().update_feature_metadata(FeatureGroupName=name, FeatureName="kwh",
                                     ParameterRemovals=["unit"])
        m = sm().describe_feature_metadata(FeatureGroupName=name, FeatureName="kwh")
        self.assertEqual(m.get("Parameters", []), [])
        self.assertClientError("ResourceNotFound", sm().describe_feature_metadata,
                               FeatureGroupName=name, FeatureName="nope")
        self.assertClientError("ValidationException", sm().update_feature_metadata,
                               FeatureGroupName=name, FeatureName="kwh", Description="x" * 256)

    def test_delete_drops_online_records(self):
        name = create("cp-drop")
        rt().put_record(FeatureGroupName=name, Record=rec("m1", now_iso()))
        sm().delete_feature_group(FeatureGroupName=name)
        self.assertClientError("ResourceNotFound", rt().get_record, FeatureGroupName=name,
                               RecordIdentifierValueAsString="m1", status=404)
        create(name)
        self.assertNotIn("Record", rt().get_record(FeatureGroupName=name,
                                                   RecordIdentifierValueAsString="m1"))

    def test_unknown_target(self):
        st, hdr, body = raw("POST", "/", body={})
        self.assertEqual(st, 400)
        self.assertEqual(hdr.get("x-amzn-ErrorType"), "UnknownOperationException")


class Runtime(ErrorCase):
    @classmethod
    def setUpClass(cls):
        create("rt-main", extra_features=[
            {"FeatureName": "tags", "FeatureType": "String", "CollectionType": "List"},
            {"FeatureName": "codes", "FeatureType": "Integral", "CollectionType": "Set"},
            {"FeatureName": "emb", "FeatureType": "Fractional", "CollectionType": "Vector",
             "CollectionConfig": {"VectorConfig": {"Dimension": 3}}}], storage="InMemory")
        create("rt-ttl", ttl={"Unit": "Days", "Value": 1})
        create("rt-offline", online=False)

    def get(self, name, rid, **kw):
        return rt().get_record(FeatureGroupName=name, RecordIdentifierValueAsString=rid, **kw)

    def test_put_get_exact_values(self):
        t = now_iso()
        r = rec("exact", t, kwh="1.50", reading="-0042", region='quote " back \\ ünï 😀',
                tags=["a", "", "c"], codes=["3", "1"], emb=["0.1", "2", "-3e5"])
        rt().put_record(FeatureGroupName="rt-main", Record=r)
        got = as_dict(self.get("rt-main", "exact")["Record"])
        self.assertEqual(got, as_dict(r))
        got = self.get("rt-main", "exact", FeatureNames=["kwh", "tags"])["Record"]
        self.assertEqual(as_dict(got), {"kwh": "1.50", "tags": ["a", "", "c"]})
        self.assertClientError("ValidationError", self.get, "rt-main", "exact",
                               FeatureNames=["nope"], status=400)
        # by ARN
        arn = sm().describe_feature_group(FeatureGroupName="rt-main")["FeatureGroupArn"]
        self.assertIn("Record", self.get(arn, "exact"))

    def test_missing_record_and_group(self):
        self.assertEqual({k: v for k, v in self.get("rt-main", "never-put").items()
                          if k != "ResponseMetadata"}, {})
        self.assertClientError("ResourceNotFound", self.get, "no-such-group", "a", status=404)
        self.assertClientError("ValidationError", self.get, "bad name!", "a", status=400)
        self.assertClientError("ValidationError", self.get, "rt-main", "x" * 2049)

    def test_event_time_ordering(self):
        t1, t0 = now_iso(), now_iso(-3600)
        rt().put_record(FeatureGroupName="rt-main", Record=rec("ord", t1, kwh="1"))
        rt().put_record(FeatureGroupName="rt-main", Record=rec("ord", t0, kwh="0"))
        self.assertEqual(as_dict(self.get("rt-main", "ord")["Record"])["kwh"], "1")
        rt().put_record(FeatureGroupName="rt-main", Record=rec("ord", t1, kwh="2"))
        self.assertEqual(as_dict(self.get("rt-main", "ord")["Record"])["kwh"], "2")

    def test_put_validation(self):
        t = now_iso()
        cases = [
            ([f for f in rec("v", t) if f["FeatureName"] != "meter_id"], "meter_id"),
            ([f for f in rec("v", t) if f["FeatureName"] != "event_time"], "event_time"),
            (rec("v", t) + [{"FeatureName": "undefined", "ValueAsString": "1"}], "undefined"),
            (rec("v", t, reading="1.5"), "reading"),
            (rec("v", t, reading="99999999999999999999"), "reading"),
            (rec("v", t, kwh="abc"), "kwh"),
            (rec("v", "yesterday"), "event_time"),
            (rec("v", t, codes=["1", "1"]), "codes"),
            (rec("v", t, emb=["1", "2"]), "emb"),
            (rec("v", t, tags="not-a-list"), "tags"),
        ]
        for record, field in cases:
            with self.subTest(field=field):
                self.assertClientError("ValidationError", rt().put_record, status=400,
                                       FeatureGroupName="rt-main", Record=record, contains=field)
        self.assertClientError("ValidationError", rt().put_record, FeatureGroupName="rt-main",
                               Record=rec("v", t), TargetStores=["OnlineStore", "OnlineStore"])
        self.assertClientError("ResourceNotFound", rt().put_record, FeatureGroupName="nope",
                               Record=rec("v", t))
        big = rec("big", t, region="x" * (360 * 1024))
        self.assertClientError("ValidationError", rt().put_record, FeatureGroupName="rt-main",
                               Record=big)

    def test_target_stores(self):
        t = now_iso()
        rt().put_record(FeatureGroupName="rt-main", Record=rec("offonly", t),
                        TargetStores=["OfflineStore"])
        self.assertNotIn("Record", self.get("rt-main", "offonly"))
        rt().put_record(FeatureGroupName="rt-main", Record=rec("offonly", t),
                        TargetStores=["OnlineStore"])
        self.assertIn("Record", self.get("rt-main", "offonly"))
        # a group without an online store
        rt().put_record(FeatureGroupName="rt-offline", Record=rec("o", t))
        self.assertClientError("ValidationError", rt().put_record, FeatureGroupName="rt-offline",
                               Record=rec("o", t), TargetStores=["OnlineStore"],
                               contains="OnlineStore")
        self.assertClientError("ValidationError", self.get, "rt-offline", "o")

    def test_soft_delete(self):
        t0, t1, t2 = now_iso(-20), now_iso(-10), now_iso()
        rt().put_record(FeatureGroupName="rt-main", Record=rec("soft", t1))
        # not newer: nothing changes
        rt().delete_record(FeatureGroupName="rt-main", RecordIdentifierValueAsString="soft",
                           EventTime=t0)
        self.assertIn("Record", self.get("rt-main", "soft"))
        rt().delete_record(FeatureGroupName="rt-main", RecordIdentifierValueAsString="soft",
                           EventTime=t2)
        self.assertNotIn("Record", self.get("rt-main", "soft"))
        # ListRecords shows it only on request
        st, _, body = raw("POST", "/FeatureGroup/rt-main/ListRecords",
                          body={"IncludeSoftDeletedRecords": True, "MaxResults": 100})
        self.assertEqual(st, 200)
        ids = self.list_all("rt-main", True)
        self.assertIn("soft", ids)
        self.assertNotIn("soft", self.list_all("rt-main", False))
        # put again with a newer event time brings it back
        rt().put_record(FeatureGroupName="rt-main", Record=rec("soft", now_iso(5)))
        self.assertIn("Record", self.get("rt-main", "soft"))

    def test_hard_delete(self):
        t1, t2 = now_iso(-10), now_iso()
        rt().put_record(FeatureGroupName="rt-main", Record=rec("hard", t2))
        self.assertClientError("ValidationError", rt().delete_record, FeatureGroupName="rt-main",
                               RecordIdentifierValueAsString="hard", EventTime=t1,
                               DeletionMode="HardDelete", status=400)
        rt().delete_record(FeatureGroupName="rt-main", RecordIdentifierValueAsString="hard",
                           EventTime=now_iso(5), DeletionMode="HardDelete")
        self.assertNotIn("Record", self.get("rt-main", "hard"))
        self.assertNotIn("hard", self.list_all("rt-main", True))
        self.assertClientError("ValidationError", rt().delete_record, FeatureGroupName="rt-main",
                               RecordIdentifierValueAsString="hard", EventTime="not a time")

    def test_ttl(self):
        # group TTL 1 day: a record from 10 s ago is alive and shows ExpiresAt on request
        rt().put_record(FeatureGroupName="rt-ttl", Record=rec("alive", now_iso(-10)))
        got = self.get("rt-ttl", "alive", ExpirationTimeResponse="Enabled")
        self.assertIn("ExpiresAt", got)
        self.assertNotIn("ExpiresAt", self.get("rt-ttl", "alive"))
        # the record's own TTL overrides the group's: 5 s after an event 1 h ago is past
        rt().put_record(FeatureGroupName="rt-ttl", Record=rec("gone", now_iso(-3600)),
                        TtlDuration={"Unit": "Seconds", "Value": 5})
        self.assertNotIn("Record", self.get("rt-ttl", "gone"))
        self.assertClientError("ValidationError", rt().put_record, FeatureGroupName="rt-ttl",
                               Record=rec("x", now_iso()), TtlDuration={"Unit": "Years", "Value": 1})
        # boto3 checks the minimum itself: send it raw
        st, hdr, _ = raw("PUT", "/FeatureGroup/rt-ttl", body={
            "Record": rec("x", now_iso()), "TtlDuration": {"Unit": "Seconds", "Value": 0}})
        self.assertEqual((st, hdr.get("x-amzn-ErrorType")), (400, "ValidationError"))

    def test_batch_get(self):
        t = now_iso()
        rt().put_record(FeatureGroupName="rt-main", Record=rec("bg1", t, kwh="1"))
        rt().put_record(FeatureGroupName="rt-main", Record=rec("bg2", t, kwh="2"))
        rt().put_record(FeatureGroupName="rt-ttl", Record=rec("bg3", t, kwh="3"))
        r = rt().batch_get_record(Identifiers=[
            {"FeatureGroupName": "rt-main", "RecordIdentifiersValueAsString": ["bg1", "bg2", "bgX"],
             "FeatureNames": ["kwh"]},
            {"FeatureGroupName": "rt-ttl", "RecordIdentifiersValueAsString": ["bg3"]},
            {"FeatureGroupName": "no-such-group", "RecordIdentifiersValueAsString": ["q"]}],
            ExpirationTimeResponse="Enabled")
        got = {(x["FeatureGroupName"], x["RecordIdentifierValueAsString"]): x for x in r["Records"]}
        self.assertEqual(as_dict(got[("rt-main", "bg1")]["Record"]), {"kwh": "1"})
        self.assertEqual(as_dict(got[("rt-main", "bg2")]["Record"]), {"kwh": "2"})
        self.assertIn("ExpiresAt", got[("rt-ttl", "bg3")])
        self.assertNotIn(("rt-main", "bgX"), got)
        self.assertEqual([(e["FeatureGroupName"], e["ErrorCode"]) for e in r["Errors"]],
                         [("no-such-group", "ResourceNotFound")])
        self.assertEqual(r["UnprocessedIdentifiers"], [])
        self.assertClientError("ValidationError", rt().batch_get_record, Identifiers=[
            {"FeatureGroupName": "rt-main",
             "RecordIdentifiersValueAsString": ["id%d" % i for i in range(101)]}])
        self.assertClientError("ValidationError", rt().batch_get_record, Identifiers=[
            {"FeatureGroupName": "rt-main", "RecordIdentifiersValueAsString": ["a"] * 60},
            {"FeatureGroupName": "rt-ttl", "RecordIdentifiersValueAsString": ["b"] * 60}],
            contains="100")

    def test_batch_write(self):
        t = now_iso()
        st, _, body = raw("POST", "/BatchWriteRecord", body={"Entries": [
            {"FeatureGroupName": "rt-main", "Record": rec("bw1", t)},
            {"FeatureGroupName": "rt-main", "Record": rec("bw2", t, kwh="bad")},
            {"FeatureGroupName": "no-such-group", "Record": rec("bw3", t)},
            {"FeatureGroupName": "rt-ttl", "Record": rec("bw4", t), "TtlDuration": {"Unit": "Hours", "Value": 1}}]})
        self.assertEqual(st, 200, body)
        self.assertEqual(sorted(e["ErrorCode"] for e in body["Errors"]),
                         ["ResourceNotFound", "ValidationError"])
        self.assertEqual(body["Errors"][0]["Entry"]["Record"][0]["ValueAsString"], "bw2")
        self.assertEqual(body["UnprocessedEntries"], [])
        self.assertIn("Record", self.get("rt-main", "bw1"))
        self.assertNotIn("Record", self.get("rt-main", "bw2"))
        self.assertIn("ExpiresAt", self.get("rt-ttl", "bw4", ExpirationTimeResponse="Enabled"))
        st, hdr, body = raw("POST", "/BatchWriteRecord", body={"Entries": []})
        self.assertEqual((st, hdr.get("x-amzn-ErrorType")), (400, "ValidationError"))
        st, _, _ = raw("POST", "/BatchWriteRecord", body={"Entries": [
            {"FeatureGroupName": "rt-main", "Record": rec("e%d" % i, t)} for i in range(26)]})
        self.assertEqual(st, 400)

    def list_all(self, name, deleted, page_size=100):
        ids, token = [], None
        while True:
            body = {"IncludeSoftDeletedRecords": deleted, "MaxResults": page_size}
            if token:
                body["NextToken"] = token
            st, _, out = raw("POST", "/FeatureGroup/%s/ListRecords" % name, body=body)
            self.assertEqual(st, 200, out)
            self.assertLessEqual(len(out["RecordIdentifiers"]), page_size)
            ids += out["RecordIdentifiers"]
            token = out.get("NextToken")
            if not token:
                return ids

    def test_list_records_pagination(self):
        create("rt-list")
        want = ["r%02d" % i for i in range(7)]
        for r in want:
            rt().put_record(FeatureGroupName="rt-list", Record=rec(r, now_iso()))
        got = self.list_all("rt-list", False, page_size=2)
        self.assertEqual(sorted(got), want)
        self.assertEqual(len(got), len(set(got)))
        st, hdr, _ = raw("POST", "/FeatureGroup/rt-list/ListRecords", body={"MaxResults": 0})
        self.assertEqual((st, hdr.get("x-amzn-ErrorType")), (400, "ValidationError"))
        st, hdr, _ = raw("POST", "/FeatureGroup/nope/ListRecords", body={})
        self.assertEqual((st, hdr.get("x-amzn-ErrorType")), (404, "ResourceNotFound"))

    def test_update_record(self):
        t = now_iso(-60)
        rt().put_record(FeatureGroupName="rt-main", Record=rec("upd", t, kwh="1", region="north"))
        st, _, body = raw("POST", "/FeatureGroup/rt-main/Record", body={
            "RecordIdentifierValueAsString": "upd",
            "Features": [{"FeatureName": "kwh", "ValueAsString": "9.5"}]})
        self.assertEqual(st, 200, body)
        got = as_dict(self.get("rt-main", "upd")["Record"])
        self.assertEqual((got["kwh"], got["region"]), ("9.5", "north"))
        # missing record
        st, hdr, body = raw("POST", "/FeatureGroup/rt-main/Record", body={
            "RecordIdentifierValueAsString": "never",
            "Features": [{"FeatureName": "kwh", "ValueAsString": "1"}]})
        self.assertEqual((st, hdr.get("x-amzn-ErrorType")), (404, "ResourceNotFound"))
        # an older event time
        st, hdr, body = raw("POST", "/FeatureGroup/rt-main/Record", body={
            "RecordIdentifierValueAsString": "upd",
            "Features": [{"FeatureName": "event_time", "ValueAsString": now_iso(-7200)}]})
        self.assertEqual((st, hdr.get("x-amzn-ErrorType")), (409, "ConflictException"))
        # TtlDuration without the event time
        st, hdr, body = raw("POST", "/FeatureGroup/rt-main/Record", body={
            "RecordIdentifierValueAsString": "upd", "TtlDuration": {"Unit": "Days", "Value": 1},
            "Features": [{"FeatureName": "kwh", "ValueAsString": "1"}]})
        self.assertEqual((st, hdr.get("x-amzn-ErrorType")), (400, "ValidationError"))
        # a soft-deleted record cannot be updated
        rt().delete_record(FeatureGroupName="rt-main", RecordIdentifierValueAsString="upd",
                           EventTime=now_iso())
        st, hdr, body = raw("POST", "/FeatureGroup/rt-main/Record", body={
            "RecordIdentifierValueAsString": "upd",
            "Features": [{"FeatureName": "kwh", "ValueAsString": "1"}]})
        self.assertEqual((st, hdr.get("x-amzn-ErrorType")), (404, "ResourceNotFound"))


class Signatures(ErrorCase):
    @classmethod
    def setUpClass(cls):
        create("sig-fg")
        rt().put_record(FeatureGroupName="sig-fg", Record=rec("s", now_iso()))

    def test_unsigned_is_refused(self):
        self.assertClientError("AccessForbidden", rt(unsigned=True).get_record,
                               FeatureGroupName="sig-fg", RecordIdentifierValueAsString="s",
                               status=403)
        self.assertClientError("MissingAuthenticationToken",
                               sm(unsigned=True).describe_feature_group,
                               FeatureGroupName="sig-fg", status=403)
        st, hdr, _ = raw("POST", "/BatchWriteRecord", body={"Entries": []}, sign=False)
        self.assertEqual((st, hdr.get("x-amzn-ErrorType")), (403, "AccessForbidden"))

    def test_wrong_secret_is_refused(self):
        self.assertClientError("AccessForbidden", rt(secret="wrong").get_record,
                               FeatureGroupName="sig-fg", RecordIdentifierValueAsString="s",
                               status=403, contains="signature")
        self.assertClientError("InvalidSignatureException", sm(secret="wrong").list_feature_groups,
                               status=403)
        st, _, _ = raw("POST", "/FeatureGroup/sig-fg/ListRecords", body={}, secret="wrong")
        self.assertEqual(st, 403)

    def test_unknown_key_and_skew(self):
        c = boto3.client("sagemaker-featurestore-runtime", endpoint_url=SRV.url,
                         region_name=REGION, aws_access_key_id="AKIDUNKNOWN",
                         aws_secret_access_key=SECRET_KEY,
                         config=Config(retries={"max_attempts": 1}))
        self.assertClientError("AccessForbidden", c.get_record, FeatureGroupName="sig-fg",
                               RecordIdentifierValueAsString="s")
        # a request signed 20 minutes ago
        req = AWSRequest(method="GET", url=SRV.url + "/FeatureGroup/sig-fg?RecordIdentifierValueAsString=s")
        old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
        auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "sagemaker", REGION)
        req.context["timestamp"] = old.strftime("%Y%m%dT%H%M%SZ")
        auth._modify_request_before_signing(req)
        req.headers["X-Amz-Date"] = req.context["timestamp"]
        cr = auth.canonical_request(req)
        sig = auth.signature(auth.string_to_sign(req, cr), req)
        auth._inject_signature_to_request(req, sig)  # sets the Authorization header
        conn = http.client.HTTPConnection("127.0.0.1", SRV.port, timeout=30)
        conn.request("GET", "/FeatureGroup/sig-fg?RecordIdentifierValueAsString=s",
                     headers=dict(req.headers))
        resp = conn.getresponse()
        body = json.loads(resp.read())
        conn.close()
        self.assertEqual(resp.status, 403)
        self.assertIn("expired", body["message"])

    def test_signed_raw_and_healthz(self):
        st, _, body = raw("GET", "/FeatureGroup/sig-fg",
                          query={"RecordIdentifierValueAsString": "s"})
        self.assertEqual(st, 200)
        self.assertIn("Record", body)
        # /healthz and /metrics need no signature
        st, _, body = raw("GET", "/healthz", sign=False)
        self.assertEqual((st, body), (200, {"status": "ok"}))

    def test_metrics(self):
        rt().get_record(FeatureGroupName="sig-fg", RecordIdentifierValueAsString="s")
        with self.assertRaises(ClientError):
            rt(unsigned=True).get_record(FeatureGroupName="sig-fg", RecordIdentifierValueAsString="s")
        conn = http.client.HTTPConnection("127.0.0.1", SRV.port, timeout=30)
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        text = resp.read().decode()
        conn.close()
        self.assertEqual(resp.status, 200)
        self.assertIn('larder_requests_total{operation="GetRecord",status="200"}', text, text[:2000])
        self.assertIn('larder_requests_total{operation="GetRecord",status="403"}', text)
        self.assertIn('larder_request_duration_seconds_bucket{operation="GetRecord",le="+Inf"}', text)
        self.assertIn("larder_open_connections", text)
        self.assertIn('larder_online_records{feature_group="sig-fg"} 1', text)
        self.assertIn("larder_offline_lag_seconds", text)
        self.assertIn("larder_offline_log_bytes", text)


class OpenAndProtected(ErrorCase):
    def test_open_server_on_loopback(self):
        with larder_server.Server(keys=False) as srv:
            c = client("sagemaker", unsigned=True, srv=srv)
            c.create_feature_group(**fg_request("open-fg"))
            r = client("sagemaker-featurestore-runtime", unsigned=True, srv=srv)
            r.put_record(FeatureGroupName="open-fg", Record=rec("a", now_iso()))
            self.assertIn("Record", r.get_record(FeatureGroupName="open-fg",
                                                 RecordIdentifierValueAsString="a"))

    def test_protected_mode_refuses_other_addresses(self):
        env = dict(os.environ)
        for k in ("LARDER_ACCESS_KEY_ID", "LARDER_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
                  "AWS_SECRET_ACCESS_KEY"):
            env.pop(k, None)
        d = larder_server.tempfile.mkdtemp(prefix="larder-prot-")
        try:
            p = subprocess.run([larder_server.larder_bin(), "--data-dir", d, "serve", "--listen",
                                "0.0.0.0:0"], env=env, capture_output=True, text=True, timeout=60)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("LARDER_ACCESS_KEY_ID", p.stderr)
            self.assertIn("--credentials", p.stderr)
        finally:
            larder_server.shutil.rmtree(d, ignore_errors=True)

    def test_credentials_file_and_config_file(self):
        d = larder_server.tempfile.mkdtemp(prefix="larder-cred-")
        try:
            cred = os.path.join(d, "credentials")
            with open(cred, "w") as f:
                f.write("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n")
            conf = os.path.join(d, "larder.conf")
            with open(conf, "w") as f:
                f.write("# test\ncredentials = %s\nthreads = 1\n" % cred)
            with larder_server.Server(keys=False, args=("--config", conf)) as srv:
                c = boto3.client("sagemaker", endpoint_url=srv.url, region_name=REGION,
                                 aws_access_key_id="AKIDFILE", aws_secret_access_key="filesecret",
                                 config=Config(retries={"max_attempts": 1}))
                self.assertEqual(c.list_feature_groups()["FeatureGroupSummaries"], [])
                self.assertClientError("MissingAuthenticationToken",
                                       client("sagemaker", unsigned=True, srv=srv).list_feature_groups)
        finally:
            larder_server.shutil.rmtree(d, ignore_errors=True)

    def test_graceful_stop_flushes_offline(self):
        srv = larder_server.Server(keys=False)
        try:
            c = client("sagemaker", unsigned=True, srv=srv)
            req = fg_request("stop-fg")
            root = os.path.join(srv.dir, "off-stop")
            req["OfflineStoreConfig"]["S3StorageConfig"]["S3Uri"] = "file://" + root
            c.create_feature_group(**req)
            r = client("sagemaker-featurestore-runtime", unsigned=True, srv=srv)
            for i in range(10):
                r.put_record(FeatureGroupName="stop-fg", Record=rec("m%d" % i, now_iso()))
            self.assertEqual(srv.stop(), 0)
            files = [f for _, _, fs in os.walk(root) for f in fs if f.endswith(".parquet")]
            self.assertGreaterEqual(len(files), 1)
        finally:
            srv.cleanup()


class CompactionJobs(ErrorCase):
    """GET /v1/jobs and /v1/jobs/ID (signed like the SageMaker API), the
    compaction metrics and --compaction-schedule, on a server of its own so
    its job list starts empty."""

    @classmethod
    def setUpClass(cls):
        cls.srv = larder_server.Server(keys=True)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.srv.cleanup()

    def larder(self, *args, data=None):
        return subprocess.run([larder_server.larder_bin(), "--data-dir", data or self.srv.data,
                               *args], capture_output=True, text=True, timeout=120)

    def jobs(self, path="/v1/jobs", query=None, sign=True):
        return raw("GET", path, query=query, sign=sign, srv=self.srv)

    def test_jobs_listed_after_compaction(self):
        st, hdrs, body = self.jobs()
        self.assertEqual((st, body), (200, {"Jobs": []}))
        self.assertTrue(hdrs["Content-Type"].startswith("application/json"))
        # jobs are data: unsigned requests are refused as on the runtime API
        st, _, body = self.jobs(sign=False)
        self.assertEqual(st, 403, body)

        req = fg_request("jobs-fg")
        req["OfflineStoreConfig"]["S3StorageConfig"]["S3Uri"] = "file://" + os.path.join(
            self.srv.dir, "offline")
        sm(srv=self.srv).create_feature_group(**req)
        for i in range(4):
            p = self.larder("put", "jobs-fg", "meter_id=m%d" % i, "event_time=" + now_iso(-i),
                            "kwh=1.5", "reading=%d" % i, "region=north",
                            "--target-stores", "offline")
            self.assertEqual(p.returncode, 0, p.stderr)
        p = self.larder("compact", "jobs-fg", "--mode", "full", "--grace", "0")
        self.assertEqual(p.returncode, 0, p.stderr)

        st, _, body = self.jobs()
        self.assertEqual(st, 200, body)
        self.assertEqual(len(body["Jobs"]), 1, body)
        job = body["Jobs"][0]
        self.assertEqual((job["FeatureGroupName"], job["Status"], job["Mode"]),
                         ("jobs-fg", "Completed", "full"))
        self.assertEqual(job["RowsOut"], 4)
        st, _, one = self.jobs("/v1/jobs/%d" % job["JobId"])
        self.assertEqual(st, 200, one)
        self.assertEqual((one["JobId"], one["Status"]), (job["JobId"], "Completed"))
        self.assertIn("PartitionResults", one)

        st, _, body = self.jobs(query={"feature-group": "jobs-fg", "status": "Completed",
                                       "limit": "1"})
        self.assertEqual((st, [j["JobId"] for j in body["Jobs"]]), (200, [job["JobId"]]))
        st, _, body = self.jobs(query={"status": "Failed"})
        self.assertEqual((st, body["Jobs"]), (200, []))
        st, _, body = self.jobs(query={"feature-group": "other-fg"})
        self.assertEqual((st, body["Jobs"]), (200, []))

        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        text = resp.read().decode()
        conn.close()
        self.assertEqual(resp.status, 200)
        self.assertIn("larder_compaction_", text)
        self.assertRegex(text, r"(?m)^larder_compaction_\w+ ")

    def test_job_errors(self):
        for path, status, code in (("/v1/jobs/999999", 404, "ResourceNotFound"),
                                   ("/v1/jobs/abc", 400, "ValidationError"),
                                   ("/v1/jobs/0", 400, "ValidationError"),
                                   ("/v1/jobs/-1", 400, "ValidationError")):
            st, hdrs, body = self.jobs(path)
            self.assertEqual((st, body["__type"], hdrs["x-amzn-ErrorType"]),
                             (status, code, code), path)
        for q in ({"limit": "0"}, {"limit": "1001"}, {"status": "Done"}, {"bogus": "1"},
                  {"next-token": "x"}):
            st, _, body = self.jobs(query=q)
            self.assertEqual((st, body["__type"]), (400, "ValidationError"), q)
        st, _, body = raw("POST", "/v1/jobs", srv=self.srv)
        self.assertEqual(st, 404, body)

    def test_compaction_schedule_option(self):
        d = larder_server.tempfile.mkdtemp(prefix="larder-sched-")
        try:
            for args, env in (((("--compaction-schedule", "not a cron")), {}),
                              ((), {"LARDER_COMPACTION_SCHEDULE": "61 * * * *"})):
                e = dict(os.environ, **env)
                p = subprocess.run([larder_server.larder_bin(), "--data-dir", d, "serve",
                                    "--listen", "127.0.0.1:0", *args], capture_output=True,
                                   text=True, timeout=60, env=e)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertIn("compaction-schedule", p.stderr)
            conf = os.path.join(d, "larder.conf")
            with open(conf, "w") as f:
                f.write("compaction-schedule = 0 0 * * ? *\n")
            for args in (("--compaction-schedule", "0 0 * * ? *"), ("--config", conf)):
                with larder_server.Server(keys=False, args=args) as srv:
                    st, _, body = raw("GET", "/v1/jobs", sign=False, srv=srv)
                    self.assertEqual((st, body), (200, {"Jobs": []}))
                    self.assertEqual(srv.stop(), 0)
        finally:
            larder_server.shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
