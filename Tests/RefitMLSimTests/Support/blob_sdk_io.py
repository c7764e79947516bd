#!/usr/bin/env python3
"""Small blob steps with the official Azure Storage SDK for Python, for tests that drive a BES job with it.

  blob_sdk_io.py upload CONNECTION_STRING CONTAINER BLOB FILE   create the container if needed, upload FILE
  blob_sdk_io.py sas CONNECTION_STRING CONTAINER BLOB           print a read SAS (no '?') minted by the SDK
  blob_sdk_io.py download BLOB_URL_WITH_SAS                     write the blob's content to stdout
Exits 1 with one line on stderr when a step fails.
"""
import datetime
import sys

from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.storage.blob import BlobClient, BlobSasPermissions, BlobServiceClient, generate_blob_sas


def main():
    command, args = sys.argv[1], sys.argv[2:]
    try:
        if command == "upload":
            conn, container, blob, path = args
            service = BlobServiceClient.from_connection_string(conn)
            try:
                service.create_container(container)
            except ResourceExistsError:
                pass
            with open(path, "rb") as data:
                service.get_blob_client(container, blob).upload_blob(data, overwrite=True)
        elif command == "sas":
            conn, container, blob = args
            parts = dict(p.split("=", 1) for p in conn.split(";") if "=" in p)
            expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=30)
            print(generate_blob_sas(parts["AccountName"], container, blob, account_key=parts["AccountKey"],
                                    permission=BlobSasPermissions(read=True), expiry=expiry))
        elif command == "download":
            (url,) = args
            sys.stdout.buffer.write(BlobClient.from_blob_url(url).download_blob().readall())
        else:
            raise SystemExit(f"blob_sdk_io: unknown command {command}")
    except HttpResponseError as error:
        print(f"blob_sdk_io: {command}: HTTP {error.status_code} ({error.error_code})", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
