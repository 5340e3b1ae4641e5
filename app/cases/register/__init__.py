"""The format of an old register brought in by `flask cases import` (see docs/import.md).

- columns: the columns, each with an English and a Vietnamese heading;
- vocabularies: the values each coded column accepts, in either language;
- values: cells read into text, dates, times, ages and lists;
- files: reading CSV, XLSX and JSON-lines files into rows;
- cells, rows: one row checked and turned into an intake, with its problems in plain words.
"""
