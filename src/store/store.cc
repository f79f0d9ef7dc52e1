#include "store/store.h"

#include <algorithm>

namespace cordon::store {
namespace {
bool Allows(const std::vector<std::string>& list, const std::string& collection) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& c) { return c == "*" || c == collection; });
}
}  // namespace

Result<PutResult> Store::PutObjects(const std::string& collection, const std::vector<NewObject>& objects) {
  CORDON_ASSIGN_OR_RETURN(std::unique_ptr<BulkWrite> write, BeginBulkWrite(collection));
  CORDON_ASSIGN_OR_RETURN(PutResult result, write->Put(objects));
  CORDON_RETURN_IF_ERROR(write->Commit());
  return result;
}

Result<Page> Store::QueryObjects(const ObjectQuery& query) {
  Page page;
  page.items.reserve(std::min(std::max(query.limit, 1), 1000));
  CORDON_ASSIGN_OR_RETURN(PageEnd end, ScanObjects(query, [&page](const ObjectRow& row) {
    page.items.push_back(StoredObject{.id = std::string(row.id),
                                      .type = std::string(row.type),
                                      .spec_version = std::string(row.spec_version),
                                      .version = row.version,
                                      .date_added = row.date_added,
                                      .bytes = std::string(row.bytes)});
  }));
  page.more = end.more;
  page.next_cursor = end.next_cursor;
  return page;
}

bool User::CanRead(const std::string& collection) const { return Allows(can_read, collection); }
bool User::CanWrite(const std::string& collection) const { return Allows(can_write, collection); }

}  // namespace cordon::store
