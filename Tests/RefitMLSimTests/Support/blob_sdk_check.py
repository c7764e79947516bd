#!/usr/bin/env python3
"""Drives the emulator's Blob service with the official Azure Storage SDK for Python (azure-storage-blob),
an independent client: it signs every request with Shared Key and mints SAS tokens by itself.

Usage: blob_sdk_check.py CONNECTION_STRING [EMULATOR_SAS_URL EXPECTED_TEXT [ACCOUNT_SAS]]
ACCOUNT_SAS is the emulator's printed account SAS (storage.sasToken), checked as a credential on its own.
Exits 0 when every step behaves as Azure would, 1 with one line on stderr naming the failed step.
"""
import datetime
import re
import sys
import uuid

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceExistsError
from azure.storage.blob import (AccountSasPermissions, BlobClient, BlobSasPermissions, BlobServiceClient,
                                ContainerClient, ContentSettings, ResourceTypes, generate_account_sas,
                                generate_blob_sas, generate_container_sas)


def fail(step, detail):
    print(f"blob_sdk_check: {step}: {detail}", file=sys.stderr)
    sys.exit(1)


def expect_status(step, status, action):
    try:
        action()
    except HttpResponseError as error:  # ClientAuthenticationError is a subclass
        if error.status_code != status:
            fail(step, f"expected HTTP {status}, got {error.status_code} ({error.error_code})")
        return error
    fail(step, f"expected HTTP {status}, the call succeeded")


def check_account_sas(step, endpoint, sas):
    """Creates a container, uploads, lists, downloads and deletes with nothing but an account SAS."""
    service = BlobServiceClient(account_url=endpoint, credential=sas)
    name = "acct-" + uuid.uuid4().hex[:12]
    try:
        container = service.create_container(name)
        container.upload_blob("data/x.csv", b"x\n1\n")
        if [b.name for b in container.list_blobs()] != ["data/x.csv"]:
            fail(step, "listing differs")
        if container.download_blob("data/x.csv").readall() != b"x\n1\n":
            fail(step, "content differs")
        if name not in [c.name for c in service.list_containers(name_starts_with="acct-")]:
            fail(step, "container not listed")
        container.delete_blob("data/x.csv")
        container.delete_container()
    except HttpResponseError as error:
        fail(step, f"HTTP {error.status_code} ({error.error_code})")


def main():
    if len(sys.argv) not in (2, 4, 5):
        fail("usage", "blob_sdk_check.py CONNECTION_STRING [EMULATOR_SAS_URL EXPECTED_TEXT [ACCOUNT_SAS]]")
    conn = sys.argv[1]
    parts = dict(p.split("=", 1) for p in conn.split(";") if "=" in p)
    account, key, endpoint = parts["AccountName"], parts["AccountKey"], parts["BlobEndpoint"]

    service = BlobServiceClient.from_connection_string(conn)
    name = "sdk-" + uuid.uuid4().hex[:12]
    container = service.get_container_client(name)
    container.create_container()
    expect_status("create existing container", 409, container.create_container)

    payload = b"x,y\n1,2\n3,4.5\n"
    blob_name = "inputs/2016-02-13/data.csv"
    blob = container.get_blob_client(blob_name)
    blob.upload_blob(payload, content_settings=ContentSettings(content_type="text/csv"),
                     metadata={"slice": "20160213"})
    container.get_blob_client("inputs/other.csv").upload_blob(b"a\n")
    container.get_blob_client("outputs/model.ilearner").upload_blob(b"")

    # The SDK sends If-None-Match: * unless overwrite=True.
    expect_status("upload over existing blob without overwrite", 409, lambda: blob.upload_blob(b"again"))
    try:
        blob.upload_blob(payload, overwrite=True, content_settings=ContentSettings(content_type="text/csv"),
                         metadata={"slice": "20160213"})
    except HttpResponseError as error:
        fail("overwrite", str(error))

    names = [b.name for b in container.list_blobs(name_starts_with="inputs/")]
    if names != ["inputs/2016-02-13/data.csv", "inputs/other.csv"]:
        fail("list with prefix", repr(names))
    paged = container.list_blobs(results_per_page=1).by_page()
    pages = [[b.name for b in page] for page in paged]
    if pages != [["inputs/2016-02-13/data.csv"], ["inputs/other.csv"], ["outputs/model.ilearner"]]:
        fail("list pagination", repr(pages))
    walked = sorted(item.name for item in container.walk_blobs(delimiter="/"))
    if walked != ["inputs/", "outputs/"]:
        fail("list with delimiter", repr(walked))

    # Blobs larger than max_single_put_size go up as staged blocks and a committed block list.
    chunked_service = BlobServiceClient.from_connection_string(conn, max_single_put_size=4, max_block_size=4)
    chunked = chunked_service.get_container_client(name).get_blob_client("outputs/chunked.csv")
    chunked.upload_blob(payload, content_settings=ContentSettings(content_type="text/csv"))
    if chunked.download_blob().readall() != payload:
        fail("block upload", "content differs")
    if chunked.get_blob_properties().content_settings.content_type != "text/csv":
        fail("block upload", "content type lost")
    chunked.delete_blob()

    listed_containers = [c.name for c in service.list_containers(name_starts_with=name)]
    if listed_containers != [name]:
        fail("list containers", repr(listed_containers))

    downloaded = blob.download_blob().readall()
    if downloaded != payload:
        fail("download", f"content differs: {downloaded!r}")
    if container.get_blob_client("outputs/model.ilearner").download_blob().readall() != b"":
        fail("download empty blob", "content is not empty")
    partial = blob.download_blob(offset=4, length=3).readall()
    if partial != payload[4:7]:
        fail("ranged download", repr(partial))

    props = blob.get_blob_properties()
    if props.size != len(payload) or props.content_settings.content_type != "text/csv":
        fail("properties", f"size={props.size} type={props.content_settings.content_type}")
    if props.metadata != {"slice": "20160213"} or props.blob_type != "BlockBlob" or not props.etag:
        fail("properties", f"metadata={props.metadata} type={props.blob_type} etag={props.etag}")
    if not props.content_settings.content_md5:
        fail("properties", "no Content-MD5")

    # A SAS minted by the SDK with the account key works for reading, and only for reading.
    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10)
    sas = generate_blob_sas(account, name, blob_name, account_key=key,
                            permission=BlobSasPermissions(read=True), expiry=expiry)
    sas_blob = BlobClient(account_url=endpoint, container_name=name, blob_name=blob_name, credential=sas)
    if sas_blob.download_blob().readall() != payload:
        fail("read with SDK blob SAS", "content differs")
    error = expect_status("delete with read-only SAS", 403, sas_blob.delete_blob)
    if error.error_code != "AuthorizationPermissionMismatch":
        fail("delete with read-only SAS", f"error code {error.error_code}")
    other = BlobClient(account_url=endpoint, container_name=name, blob_name="inputs/other.csv", credential=sas)
    expect_status("SAS for another blob", 403, lambda: other.download_blob().readall())
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    expired = generate_blob_sas(account, name, blob_name, account_key=key,
                                permission=BlobSasPermissions(read=True), expiry=past)
    error = expect_status("expired SAS", 403, lambda: BlobClient(
        account_url=endpoint, container_name=name, blob_name=blob_name, credential=expired).download_blob())
    if error.error_code != "AuthenticationFailed":
        fail("expired SAS", f"error code {error.error_code}")
    container_sas = generate_container_sas(account, name, account_key=key, permission="rl", expiry=expiry)
    listed = [b.name for b in ContainerClient(account_url=endpoint, container_name=name,
                                              credential=container_sas).list_blobs()]
    if len(listed) != 3:
        fail("list with SDK container SAS", repr(listed))

    # An account SAS minted by the SDK covers containers and blobs of the Blob service.
    account_sas = generate_account_sas(account, key, resource_types=ResourceTypes(service=True, container=True, object=True),
                                       permission=AccountSasPermissions(read=True, write=True, delete=True, list=True,
                                                                        create=True), expiry=expiry)
    check_account_sas("SDK account SAS", endpoint, account_sas)
    read_only = generate_account_sas(account, key, resource_types=ResourceTypes(object=True),
                                     permission=AccountSasPermissions(read=True), expiry=expiry)
    ro_blob = BlobClient(account_url=endpoint, container_name=name, blob_name=blob_name, credential=read_only)
    if ro_blob.download_blob().readall() != payload:
        fail("read with read-only account SAS", "content differs")
    error = expect_status("upload with read-only account SAS", 403, lambda: ro_blob.upload_blob(b"x", overwrite=True))
    if error.error_code != "AuthorizationPermissionMismatch":
        fail("upload with read-only account SAS", f"error code {error.error_code}")
    error = expect_status("list with object-only account SAS", 403, lambda: list(ContainerClient(
        account_url=endpoint, container_name=name, credential=read_only).list_blobs()))
    if error.error_code != "AuthorizationResourceTypeMismatch":
        fail("list with object-only account SAS", f"error code {error.error_code}")

    # The emulator's printed account SAS works with the SDK; a forged one does not.
    if len(sys.argv) == 5:
        printed = sys.argv[4].lstrip("?")
        check_account_sas("printed account SAS", endpoint, printed)
        forged_sas = re.sub(r"sig=[^&]*", "sig=" + "A" * 43 + "%3D", printed)
        error = expect_status("forged account SAS", 403, lambda: BlobClient(
            account_url=endpoint, container_name=name, blob_name=blob_name, credential=forged_sas).download_blob())
        if error.error_code != "AuthenticationFailed":
            fail("forged account SAS", f"error code {error.error_code}")

    # A SAS the emulator minted works with the SDK.
    if len(sys.argv) >= 4:
        from_emulator = BlobClient.from_blob_url(sys.argv[2])
        text = from_emulator.download_blob().readall().decode("utf-8")
        if text != sys.argv[3]:
            fail("read with emulator SAS", repr(text))

    # A forged account key is refused with 403 AuthenticationFailed.
    forged_key = key[:-8] + ("AAAAAAA=" if not key.endswith("AAAAAAA=") else "BBBBBBB=")
    forged = BlobServiceClient.from_connection_string(re.sub(r"AccountKey=[^;]*", "AccountKey=" + forged_key, conn))
    try:
        forged.get_container_client(name).get_blob_client(blob_name).download_blob().readall()
        fail("forged key", "download succeeded")
    except ClientAuthenticationError as error:
        if error.status_code != 403 or error.error_code != "AuthenticationFailed":
            fail("forged key", f"status {error.status_code} code {error.error_code}")
    except HttpResponseError as error:
        if error.status_code != 403:
            fail("forged key", f"status {error.status_code}")
    expect_status("forged key upload", 403, lambda: forged.get_container_client(name)
                  .get_blob_client("evil.csv").upload_blob(b"x"))
    if container.get_blob_client("evil.csv").exists():
        fail("forged key upload", "the blob was written")

    blob.delete_blob()
    expect_status("download deleted blob", 404, lambda: blob.download_blob())
    if blob.exists():
        fail("delete", "blob still exists")
    container.delete_container()
    try:
        container.create_container()  # the name is free again
        container.delete_container()
    except ResourceExistsError:
        fail("delete container", "the container still exists")
    print("blob_sdk_check: ok")


if __name__ == "__main__":
    main()
