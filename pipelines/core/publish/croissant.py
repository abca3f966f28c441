"""MLCommons Croissant 1.0 metadata of a release (``croissant.json``), so dataset search engines
and ML loaders understand its files, and a validator of the parts of it that loaders rely on."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pipelines.core.publish.catalog import TableDoc
from pipelines.core.publish.licences import licence_url
from pipelines.core.publish.parts import manifest_parts

DATASET_NAME = "trending-papers"
PRETTY_NAME = "Trending papers on Hugging Face"
DATASET_DESCRIPTION = (
    "The machine-learning papers that trend on Hugging Face: one row per paper, every appearance "
    "of a paper in a listing (date, rank, upvotes), the code and project links of each paper, "
    "and every raw listing file read with what became of it. Built from responses of the Hugging "
    "Face daily papers API and captures of the Hugging Face papers pages."
)
CROISSANT_1_0 = "http://mlcommons.org/croissant/1.0"
PARQUET_MIME = "application/x-parquet"
# the JSON-LD context of Croissant 1.0, as mlcroissant 1.x writes it (the spec's Appendix 1 plus
# the aliases its examples use: conformsTo, key, fileObject, fileSet, citeAs, md5...)
CROISSANT_CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "samplingRate": "cr:samplingRate",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
# Arrow type (as pyarrow prints it in the manifest) -> Croissant atomic dataType
_ARROW_TYPES: dict[str, str] = {
    "string": "sc:Text",
    "large_string": "sc:Text",
    "string_view": "sc:Text",
    "bool": "sc:Boolean",
    **{f"{sign}int{bits}": "sc:Integer" for sign in ("", "u") for bits in (8, 16, 32, 64)},
    "halffloat": "sc:Float",
    "float": "sc:Float",
    "double": "sc:Float",
    "date32[day]": "sc:Date",
    "date64[ms]": "sc:Date",
}
CROISSANT_DATA_TYPES = frozenset(
    {*_ARROW_TYPES.values(), "sc:DateTime", "sc:Number", "sc:URL", "sc:ImageObject"}
)
# a fixed-size list (an embedding vector) is a list whose every value has the same length
ARROW_LIST_TYPE = re.compile(
    r"^(?:large_|fixed_size_)?list(?:_view)?<[^:<>]+: (?P<item>.+)>(?:\[(?P<size>\d+)\])?$"
)
# a field's values are taken from another table's key: Croissant's foreign key (`references`)
REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("observations", "paper_id"): ("papers", "paper_id"),
    ("paper_embeddings", "paper_id"): ("papers", "paper_id"),
    ("similar_papers", "paper_id"): ("papers", "paper_id"),
    ("similar_papers", "similar_paper_id"): ("papers", "paper_id"),
    ("observations", "source_file"): ("listing_files", "file_key"),
    ("code_links", "paper_id"): ("papers", "paper_id"),
    ("paper_aliases", "paper_id"): ("papers", "paper_id"),
    ("rejects", "source_file"): ("listing_files", "file_key"),
    ("repairs", "source_file"): ("listing_files", "file_key"),
}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def croissant_data_type(arrow_type: str) -> tuple[str, bool]:
    """The Croissant ``dataType`` of an Arrow type and whether the field is ``repeated``.

    A list becomes its item type with ``repeated: true`` (Croissant 1.0's way to say "a list of
    values of dataType"); a list of lists or a struct has no flat equivalent and is refused.

    Raises:
        ValueError: For a type with no Croissant equivalent here (add it to the mapping).
    """
    match = ARROW_LIST_TYPE.match(arrow_type)
    if match is not None:
        item, repeated = _atomic_type(match.group("item")), True
    else:
        item, repeated = _atomic_type(arrow_type), False
    if item is None:
        raise ValueError(f"no Croissant dataType for the Arrow type {arrow_type!r}")
    return item, repeated


def _atomic_type(arrow_type: str) -> str | None:
    if arrow_type.startswith("timestamp["):
        return "sc:DateTime"
    if arrow_type.startswith("decimal"):
        return "sc:Number"
    return _ARROW_TYPES.get(arrow_type)


def croissant_metadata(
    release_id: str,
    manifest: Mapping[str, Any],
    table_docs: Mapping[str, TableDoc],
    *,
    license: str,
    url: str | None,
) -> dict[str, Any]:
    """The release described in MLCommons Croissant 1.0 JSON-LD (``croissant.json``).

    One ``cr:FileObject`` per Parquet file (relative ``contentUrl``, size and sha256 from the
    manifest) and one ``cr:RecordSet`` per table, a ``cr:Field`` per column typed from the
    Parquet schema recorded in the manifest, its key and its foreign keys (``references``).

    Args:
        release_id: The release, recorded as ``version`` (not semver: mlcroissant warns).
        manifest: The release's manifest (``created_at``, ``tables`` with file, bytes, sha256,
            schema).
        table_docs: The data dictionary (``catalog.TABLES``); an undocumented table or column
            gets an empty description rather than none.
        license: A Hugging Face licence id (``apache-2.0``), a URL, or free text; known ids are
            written as the licence's URL, as Croissant recommends.
        url: The dataset's web page; omitted when None.

    Raises:
        ValueError: When a column's Arrow type has no Croissant dataType.
    """
    tables: Mapping[str, Mapping[str, Any]] = manifest["tables"]
    names = table_order(tables, table_docs)
    document: dict[str, Any] = {
        "@context": json.loads(json.dumps(CROISSANT_CONTEXT)),
        "@type": "sc:Dataset",
        "name": DATASET_NAME,
        "description": DATASET_DESCRIPTION,
        "conformsTo": CROISSANT_1_0,
        "license": licence_url(license),
        "version": release_id,
        "datePublished": manifest["created_at"],
        "citeAs": _citation(release_id, str(manifest["created_at"])[:4], url),
        "keywords": ["machine learning", "papers", "arXiv", "Hugging Face", "trending"],
    }
    if url is not None:
        document["url"] = url
    document["distribution"] = [item for name in names for item in _file_set(name, tables[name])]
    document["recordSet"] = [
        _record_set(name, tables[name], table_docs.get(name), tables) for name in names
    ]
    return document


def _citation(release_id: str, year: str, url: str | None) -> str:
    # BibTeX, as Croissant recommends; no author is named because the dataset is built, not written
    key = re.sub(r"[^0-9A-Za-z]+", "_", f"{DATASET_NAME}_{release_id}")
    entries = [f"title = {{{PRETTY_NAME}}}", f"version = {{{release_id}}}", f"year = {{{year}}}"]
    if url is not None:
        entries.append(f"howpublished = {{\\url{{{url}}}}}")
    return f"@misc{{{key}, " + ", ".join(entries) + "}"


def table_order(tables: Mapping[str, Any], table_docs: Mapping[str, TableDoc]) -> list[str]:
    # the data dictionary's order (papers first), then any table it does not document yet
    documented = [name for name in table_docs if name in tables]
    return documented + sorted(name for name in tables if name not in table_docs)


def _file_set(name: str, info: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The parts of a table: a FileSet that takes them all (what its fields are read from),
    then each part as a FileObject with its size and sha256."""
    parts = manifest_parts(info)
    file_set = {
        "@type": "cr:FileSet",
        "@id": _file_set_id(name),
        "name": _file_set_id(name),
        "description": f"The {len(parts)} Parquet part(s) of the {name} table.",
        "encodingFormat": PARQUET_MIME,
        "includes": info.get("files") or info.get("file"),
    }
    objects = [
        {
            "@type": "cr:FileObject",
            "@id": part["file"],
            "name": part["file"],
            "contentUrl": part["file"],
            "contentSize": f"{part['bytes']} B",
            "encodingFormat": PARQUET_MIME,
            "sha256": part["sha256"],
        }
        for part in parts
    ]
    return [file_set, *objects]


def _file_set_id(table: str) -> str:
    # a RecordSet takes the table's name as its @id, so the files take another
    return f"{table}-files"


def _record_set(
    name: str,
    info: Mapping[str, Any],
    doc: TableDoc | None,
    tables: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    columns = doc.columns if doc is not None else {}
    fields = []
    for column in info["schema"]:
        data_type, repeated = croissant_data_type(column["type"])
        field: dict[str, Any] = {
            "@type": "cr:Field",
            "@id": f"{name}/{column['name']}",
            "name": column["name"],
            "description": columns.get(column["name"], ""),
            "dataType": data_type,
        }
        if repeated:
            field["repeated"] = True
        field["source"] = {
            "fileSet": {"@id": _file_set_id(name)},
            "extract": {"column": column["name"]},
        }
        target = REFERENCES.get((name, column["name"]))
        if target is not None and target[0] in tables:
            # the DataSource form ({"field": {"@id"}}) that mlcroissant reads; it rejects the
            # bare {"@id"} shown in the spec's prose
            field["references"] = {"field": {"@id": f"{target[0]}/{target[1]}"}}
        fields.append(field)
    record_set: dict[str, Any] = {
        "@type": "cr:RecordSet",
        "@id": name,
        "name": name,
        "description": doc.description if doc is not None else "",
    }
    if doc is not None and doc.key:
        record_set["key"] = [{"@id": f"{name}/{column}"} for column in doc.key]
    record_set["field"] = fields
    return record_set


def validate_croissant(doc: Mapping[str, Any]) -> list[str]:
    """Structural problems of a Croissant 1.0 document, per the spec; empty when none.

    Checks the dataset's required properties, that every FileObject has a unique id, a
    contentUrl, an encoding format and a sha256, that every RecordSet and Field has a unique id
    and every Field an allowed atomic ``dataType``, a source naming an existing FileObject and a
    column, that key fields belong to their RecordSet and that references name existing fields.
    It checks structure, not the data: mlcroissant does that when it loads the files.
    """
    problems: list[str] = []
    context = doc.get("@context")
    if not isinstance(context, Mapping) or context.get("cr") != CROISSANT_CONTEXT["cr"]:
        problems.append("@context: missing or without the cr namespace")
    if doc.get("@type") != "sc:Dataset":
        problems.append(f"@type: expected sc:Dataset, got {doc.get('@type')!r}")
    if doc.get("conformsTo") != CROISSANT_1_0:
        problems.append(f"conformsTo: expected {CROISSANT_1_0}, got {doc.get('conformsTo')!r}")
    for prop in ("name", "description", "license", "datePublished", "version"):
        if not doc.get(prop):
            problems.append(f"{prop}: missing")
    if doc.get("datePublished") and not _is_iso_date(str(doc["datePublished"])):
        problems.append(f"datePublished: not an ISO 8601 date: {doc['datePublished']!r}")

    ids: Counter[str] = Counter()
    files = _as_list(doc.get("distribution"))
    if not files:
        problems.append("distribution: no FileObject")
    file_ids: set[str] = set()
    for position, item in enumerate(files):
        where = f"distribution[{position}]"
        kind = item.get("@type") if isinstance(item, Mapping) else None
        if kind not in ("cr:FileObject", "cr:FileSet"):
            problems.append(f"{where}: not a cr:FileObject or cr:FileSet")
            continue
        file_id = item.get("@id")
        if not file_id:
            problems.append(f"{where}: no @id")
            continue
        ids[file_id] += 1
        file_ids.add(file_id)
        required = ("contentUrl", "encodingFormat") if kind == "cr:FileObject" else ("includes",)
        for prop in required:
            if not item.get(prop):
                problems.append(f"{file_id}: {prop} missing")
        if kind == "cr:FileObject" and not _SHA256.match(str(item.get("sha256", ""))):
            problems.append(f"{file_id}: sha256 missing or not 64 hex digits")

    record_sets = _as_list(doc.get("recordSet"))
    if not record_sets:
        problems.append("recordSet: none")
    field_ids: set[str] = set()
    references: list[tuple[str, str]] = []
    for position, record_set in enumerate(record_sets):
        if not isinstance(record_set, Mapping) or record_set.get("@type") != "cr:RecordSet":
            problems.append(f"recordSet[{position}]: not a cr:RecordSet")
            continue
        set_id = str(record_set.get("@id") or f"recordSet[{position}]")
        if not record_set.get("@id"):
            problems.append(f"{set_id}: no @id")
        ids[set_id] += 1
        own: set[str] = set()
        fields = _as_list(record_set.get("field"))
        if not fields:
            problems.append(f"{set_id}: no field")
        for field in fields:
            problems += _field_problems(set_id, field, file_ids)
            field_id = field.get("@id") if isinstance(field, Mapping) else None
            if field_id:
                ids[field_id] += 1
                own.add(field_id)
                reference = _reference(field.get("references"))
                if field.get("references") is not None:
                    references.append((field_id, reference or ""))
        field_ids |= own
        for key in _as_list(record_set.get("key")):
            key_id = _ref(key)
            if key_id not in own:
                problems.append(f"{set_id}: key {key_id!r} is not one of its fields")
    for field_id, target in references:
        if target not in field_ids:
            problems.append(f"{field_id}: references {target!r}, which is no field")
    problems += [f"@id {item!r} is used {count} times" for item, count in ids.items() if count > 1]
    return problems


def _field_problems(set_id: str, field: Any, file_ids: set[str]) -> list[str]:
    if not isinstance(field, Mapping) or field.get("@type") != "cr:Field":
        return [f"{set_id}: a field is not a cr:Field"]
    field_id = field.get("@id")
    if not field_id:
        return [f"{set_id}: a field has no @id"]
    problems = []
    if not str(field_id).startswith(f"{set_id}/"):
        problems.append(f"{field_id}: @id does not start with its RecordSet's ({set_id}/)")
    data_types = _as_list(field.get("dataType"))
    if not data_types:
        problems.append(f"{field_id}: no dataType")
    elif not any(data_type in CROISSANT_DATA_TYPES for data_type in data_types):
        problems.append(f"{field_id}: dataType {data_types} has no atomic type")
    if "repeated" in field and not isinstance(field["repeated"], bool):
        problems.append(f"{field_id}: repeated is not a boolean")
    source = field.get("source")
    if not isinstance(source, Mapping):
        return [*problems, f"{field_id}: no source"]
    file_id = _ref(source.get("fileObject") or source.get("fileSet"))
    if file_id not in file_ids:
        problems.append(f"{field_id}: source names {file_id!r}, which is no FileObject or FileSet")
    extract = source.get("extract")
    if not isinstance(extract, Mapping) or not extract.get("column"):
        problems.append(f"{field_id}: source.extract.column missing")
    return problems


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _ref(value: Any) -> str | None:
    return value.get("@id") if isinstance(value, Mapping) else None


def _reference(value: Any) -> str | None:
    # a DataSource naming a field ({"field": {"@id": ...}}) or, per the spec's prose, {"@id": ...}
    if isinstance(value, Mapping) and "field" in value:
        return _ref(value["field"])
    return _ref(value)


def _is_iso_date(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        try:
            date.fromisoformat(text)
        except ValueError:
            return False
    return True
