//! What the PDF documents share: the standard fonts (Helvetica, Helvetica-Bold, Courier,
//! Courier-Bold) in WinAnsiEncoding (nothing is embedded; widths for alignment come from the
//! Adobe core-font metrics), text measuring and wrapping, and a small painter over a content
//! stream.

use pdf_writer::{Content, Name, Str};
/// One of the standard fonts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Font {
    Helvetica,
    HelveticaBold,
    Courier,
    CourierBold,
}

impl Font {
    pub(crate) const ALL: [Font; 4] = [
        Font::Helvetica,
        Font::HelveticaBold,
        Font::Courier,
        Font::CourierBold,
    ];

    pub(crate) fn resource(self) -> Name<'static> {
        match self {
            Font::Helvetica => Name(b"F1"),
            Font::HelveticaBold => Name(b"F2"),
            Font::Courier => Name(b"F3"),
            Font::CourierBold => Name(b"F4"),
        }
    }

    pub(crate) fn base_font(self) -> Name<'static> {
        match self {
            Font::Helvetica => Name(b"Helvetica"),
            Font::HelveticaBold => Name(b"Helvetica-Bold"),
            Font::Courier => Name(b"Courier"),
            Font::CourierBold => Name(b"Courier-Bold"),
        }
    }

    /// Advance width of one WinAnsi byte, in 1/1000 em.
    pub(crate) fn byte_width(self, byte: u8) -> u16 {
        match self {
            Font::Courier | Font::CourierBold => 600,
            Font::Helvetica | Font::HelveticaBold => {
                let table = if self == Font::Helvetica {
                    &HELVETICA
                } else {
                    &HELVETICA_BOLD
                };
                let byte = latin1_base(byte);
                if (32..=126).contains(&byte) {
                    table[usize::from(byte - 32)]
                } else {
                    // Wide symbols (…, ‰, Œ, ™, —) and anything unknown: charge an em so text is
                    // never measured narrower than it prints.
                    1000
                }
            }
        }
    }

    /// Width of `text` (WinAnsi bytes) at `size` points.
    pub(crate) fn width(self, text: &[u8], size: f32) -> f32 {
        text.iter()
            .map(|b| f32::from(self.byte_width(*b)))
            .sum::<f32>()
            * size
            / 1000.0
    }
}

/// Helvetica advance widths (1/1000 em), codes 32..=126 (Adobe core-14 AFM).
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// Helvetica-Bold advance widths (1/1000 em), codes 32..=126 (Adobe core-14 AFM).
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

/// For width purposes, a Latin-1 letter with a diacritic is as wide as its base letter (true for
/// Helvetica up to a few units; `ì í î ï`, wider than `i`, are measured as `t`).
fn latin1_base(byte: u8) -> u8 {
    match byte {
        0xA0 => b' ',
        0xA1 => b'!',
        0xBF => b'?',
        0xC0..=0xC5 => b'A',
        0xC6 => b'W',
        0xC7 => b'C',
        0xC8..=0xCB => b'E',
        0xCC..=0xCF => b'J',
        0xD0 => b'D',
        0xD1 => b'N',
        0xD2..=0xD6 | 0xD8 => b'O',
        0xD7 => b'+',
        0xD9..=0xDC => b'U',
        0xDD => b'Y',
        0xDE => b'P',
        0xDF => b'b',
        0xE0..=0xE5 => b'a',
        0xE6 => b'm',
        0xE7 => b'c',
        0xE8..=0xEB => b'e',
        0xEC..=0xEF => b't',
        0xF0 | 0xF2..=0xF6 | 0xF8 => b'o',
        0xF1 => b'n',
        0xF7 => b'+',
        0xF9..=0xFC => b'u',
        0xFD | 0xFF => b'y',
        0xFE => b'p',
        0xB0 => b'o',
        0xAB | 0xBB => b'n',
        other => other,
    }
}

/// Encodes text as Windows-1252 (the PDF WinAnsiEncoding); control characters become spaces and
/// anything else outside the code page becomes "?".
pub(crate) fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{A0}'..='\u{FF}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8A,
            '‹' => 0x8B,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9A,
            '›' => 0x9B,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            c if c.is_control() || c.is_whitespace() => b' ',
            _ => b'?',
        })
        .collect()
}

/// Greedy word wrap of WinAnsi text to `max_width` points; words wider than a line are cut.
pub(crate) fn wrap(text: &[u8], font: Font, size: f32, max_width: f32) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    for word in text.split(|b| *b == b' ').filter(|w| !w.is_empty()) {
        let mut word = word.to_vec();
        while font.width(&word, size) > max_width && word.len() > 1 {
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            let mut cut = word.len() - 1;
            while cut > 1 && font.width(&word[..cut], size) > max_width {
                cut -= 1;
            }
            lines.push(word[..cut].to_vec());
            word.drain(..cut);
        }
        let mut candidate = current.clone();
        if !candidate.is_empty() {
            candidate.push(b' ');
        }
        candidate.extend_from_slice(&word);
        if !current.is_empty() && font.width(&candidate, size) > max_width {
            lines.push(std::mem::replace(&mut current, word));
        } else {
            current = candidate;
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Font size ≤ `preferred` at which `text` fits in `max_width`.
pub(crate) fn fit_size(font: Font, text: &[u8], preferred: f32, max_width: f32) -> f32 {
    let width = font.width(text, preferred);
    if width <= max_width || width <= 0.0 {
        preferred
    } else {
        (preferred * max_width / width).max(0.5)
    }
}

/// A content stream with small drawing helpers (PDF coordinates: origin bottom left, points).
pub(crate) struct Painter {
    pub(crate) content: Content,
}

impl Painter {
    pub(crate) fn new() -> Self {
        Painter {
            content: Content::new(),
        }
    }

    pub(crate) fn text(&mut self, font: Font, size: f32, x: f32, y: f32, text: &[u8], gray: f32) {
        if text.is_empty() {
            return;
        }
        self.content
            .set_fill_gray(gray)
            .begin_text()
            .set_font(font.resource(), size)
            .next_line(x, y)
            .show(Str(text))
            .end_text();
    }

    pub(crate) fn text_right(
        &mut self,
        font: Font,
        size: f32,
        right: f32,
        y: f32,
        text: &[u8],
        gray: f32,
    ) {
        let x = right - font.width(text, size);
        self.text(font, size, x, y, text, gray);
    }

    pub(crate) fn text_center(
        &mut self,
        font: Font,
        size: f32,
        center: f32,
        y: f32,
        text: &[u8],
        gray: f32,
    ) {
        let x = center - font.width(text, size) / 2.0;
        self.text(font, size, x, y, text, gray);
    }

    pub(crate) fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        self.content
            .set_fill_gray(gray)
            .rect(x, y, w, h)
            .fill_nonzero();
    }

    pub(crate) fn line(&mut self, from: (f32, f32), to: (f32, f32), width: f32, gray: f32) {
        self.content
            .set_stroke_gray(gray)
            .set_line_width(width)
            .move_to(from.0, from.1)
            .line_to(to.0, to.1)
            .stroke();
    }

    pub(crate) fn stroke_rect(&mut self, x: f32, y: f32, w: f32, h: f32, width: f32, gray: f32) {
        self.content
            .set_stroke_gray(gray)
            .set_line_width(width)
            .rect(x, y, w, h)
            .stroke();
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.content.finish().into_vec()
    }
}
