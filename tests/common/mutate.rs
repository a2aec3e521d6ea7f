//! What the mutation tests share: a deterministic generator and the
//! mutations of spec text that both the robustness test
//! (`tests/bad_inputs.rs`) and the parser differential test
//! (`tests/parse_differential.rs`) apply.

/// A small deterministic generator: no dependency, same inputs every run.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// One line of the text deleted or duplicated.
pub fn line_deleted_or_duplicated(rng: &mut XorShift, bytes: &[u8]) -> Vec<u8> {
    let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
    let k = rng.below(lines.len());
    let mut out = Vec::with_capacity(bytes.len() + 80);
    for (n, l) in lines.iter().enumerate() {
        if n != k || rng.below(2) == 0 {
            out.extend_from_slice(l);
        }
        if n == k {
            out.extend_from_slice(l);
        }
    }
    out
}

/// A word replaced by another word of the text (names, kinds, enum values):
/// mostly well-formed, often meaningful. `None` when there are too few words.
pub fn word_swapped(rng: &mut XorShift, bytes: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let spans = word_spans(&text);
    if spans.len() <= 2 {
        return None;
    }
    let (s, e) = spans[rng.below(spans.len())];
    let (s2, e2) = spans[rng.below(spans.len())];
    Some(format!("{}{}{}", &text[..s], &text[s2..e2], &text[e..]).into_bytes())
}

/// Byte ranges of the words (`[A-Za-z0-9_]+`) of a text.
pub fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        let word = c.is_ascii_alphanumeric() || c == '_';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    out
}
