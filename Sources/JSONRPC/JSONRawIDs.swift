extension JSONParser {
    /// Raw text of the top-level object's `id` member, at index `-1`, or of the `id` of the
    /// object at index `i` of a top-level array, at `i`, so that a response can echo an id byte
    /// for byte. Not a dictionary: one request, the usual case, then costs no allocation and no
    /// hashing.
    public struct RawIDs: Equatable {
        private var top: String?
        private var items: [String?] = []

        public subscript(index: Int) -> String? {
            get { index < 0 ? top : (index < items.count ? items[index] : nil) }
            set {
                if index < 0 { top = newValue; return }
                if items.count <= index { items.append(contentsOf: repeatElement(nil, count: index + 1 - items.count)) }
                items[index] = newValue
            }
        }
    }
}
