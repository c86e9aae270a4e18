//! The standard PDF fonts (Helvetica, Helvetica-Bold, Courier, Courier-Bold) in
//! WinAnsiEncoding, shared by the PDF documents: nothing is embedded, and widths for alignment
//! come from the Adobe core-font metrics.

use pdf_writer::Name;
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
