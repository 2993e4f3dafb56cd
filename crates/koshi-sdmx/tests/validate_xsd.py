#!/usr/bin/env python3
"""Validate an SDMX-ML 2.1 message against the official XSDs (python3 + lxml).

usage: validate_xsd.py SCHEMA_DIR FILE [--dsd-schema XSD]

SCHEMA_DIR holds SDMXMessage.xsd and the other SDMX-ML 2.1 schemas. Structure-specific
data need the DSD-specific schema (koshi's write_dsd_schema): it is imported with
SDMXMessage.xsd by a wrapper schema. Prints every error and exits 1 if there is any.
"""
import os
import sys
import tempfile

from lxml import etree


def main(argv):
    args = [a for a in argv[1:]]
    dsd = None
    if "--dsd-schema" in args:
        i = args.index("--dsd-schema")
        if i + 1 >= len(args):
            print(__doc__, file=sys.stderr)
            return 2
        dsd = os.path.abspath(args[i + 1])
        del args[i : i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    schema_dir, file = os.path.abspath(args[0]), args[1]
    message_xsd = os.path.join(schema_dir, "SDMXMessage.xsd")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    if dsd is None:
        schema_doc = etree.parse(message_xsd, parser)
    else:
        target = etree.parse(dsd, parser).getroot().get("targetNamespace")
        wrapper = (
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
            '<xs:import namespace="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" '
            f'schemaLocation="{etree_uri(message_xsd)}"/>'
            f'<xs:import namespace="{target}" schemaLocation="{etree_uri(dsd)}"/>'
            "</xs:schema>"
        )
        with tempfile.NamedTemporaryFile("w", suffix=".xsd", delete=False) as f:
            f.write(wrapper)
            wrapper_path = f.name
        try:
            schema_doc = etree.parse(wrapper_path, parser)
        finally:
            os.unlink(wrapper_path)
    try:
        schema = etree.XMLSchema(schema_doc)
    except etree.XMLSchemaParseError as e:
        print(f"{file}: schema error: {e}")
        return 1
    try:
        doc = etree.parse(file, parser)
    except etree.XMLSyntaxError as e:
        print(f"{file}: not well-formed: {e}")
        return 1
    if schema.validate(doc):
        print(f"OK   {file}")
        return 0
    print(f"FAIL {file}")
    for e in schema.error_log:
        print(f"  {e.filename}:{e.line}:{e.column}: {e.message}")
    return 1


def etree_uri(path):
    return "file://" + path.replace(os.sep, "/")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
