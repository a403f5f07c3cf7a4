# Turn sql/NNNN_*.sql into a C file with the migrations as strings, in order.
# Run by CMakeLists.txt as: cmake -DSQL_DIR=... -DOUT=... -P contrib/embed_sql.cmake
file(GLOB files "${SQL_DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT files)
set(body "/* Generated from sql/ by contrib/embed_sql.cmake: do not edit. */\n#include \"cdscan/db.h\"\n\nconst struct cds_migration cds_migrations[] = {\n")
foreach(f ${files})
  get_filename_component(name "${f}" NAME)
  string(REGEX MATCH "^[0-9]+" num "${name}")
  math(EXPR version "${num}")
  file(READ "${f}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
  # Break the literal every 64 bytes so that no line is too long.
  string(REGEX REPLACE "((\\\\x[0-9a-f][0-9a-f]){64})" "\\1\"\n\t\"" escaped "${escaped}")
  string(APPEND body "\t{${version}, \"${name}\",\n\t\"${escaped}\"},\n")
endforeach()
string(APPEND body "};\nconst size_t cds_migration_count = sizeof(cds_migrations) / sizeof(cds_migrations[0]);\n")
file(WRITE "${OUT}.tmp" "${body}")
configure_file("${OUT}.tmp" "${OUT}" COPYONLY)
