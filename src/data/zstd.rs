//! Reading zstd-compressed input: every frame of the stream in turn (the `zstd` tool writes
//! one, `cat a.zst b.zst` makes two), skippable frames skipped; decoding by ruzstd (pure Rust).

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
use std::io::{self, BufRead, Read};

/// The zstd frame magic number, as the first four bytes of a file.
pub(crate) const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Decompresses a zstd stream of one or more frames.
pub(crate) struct ZstdFrames<R> {
    source: R,
    decoder: FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> ZstdFrames<R> {
    pub(crate) fn new(source: R) -> Self {
        ZstdFrames {
            source,
            decoder: FrameDecoder::new(),
            in_frame: false,
        }
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.in_frame {
                while self.decoder.can_collect() < buf.len() && !self.decoder.is_finished() {
                    let need = buf.len() - self.decoder.can_collect();
                    self.decoder
                        .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBytes(need))
                        .map_err(io::Error::other)?;
                }
                let n = self.decoder.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                self.in_frame = false;
            }
            // the next frame, if the stream goes on
            if self.source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            match self.decoder.init(&mut self.source) {
                Ok(()) => self.in_frame = true,
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped = io::copy(
                        &mut (&mut self.source).take(u64::from(length)),
                        &mut io::sink(),
                    )?;
                    if skipped < u64::from(length) {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "zstd: truncated skippable frame",
                        ));
                    }
                }
                Err(e) => return Err(io::Error::other(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `printf 'id,date\na,2024-01-01\n' | zstd` (zstd 1.5.4: one raw block and a checksum).
    const FRAME_A: &[u8] = &[
        0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0xa9, 0x00, 0x00, 0x69, 0x64, 0x2c, 0x64, 0x61, 0x74,
        0x65, 0x0a, 0x61, 0x2c, 0x32, 0x30, 0x32, 0x34, 0x2d, 0x30, 0x31, 0x2d, 0x30, 0x31, 0x0a,
        0xdc, 0x69, 0x42, 0x02,
    ];

    fn decode(bytes: &[u8]) -> io::Result<String> {
        let mut out = String::new();
        ZstdFrames::new(bytes).read_to_string(&mut out)?;
        Ok(out)
    }

    #[test]
    fn one_frame_two_frames_and_a_skippable_one() {
        let text = "id,date\na,2024-01-01\n";
        assert_eq!(decode(FRAME_A).unwrap(), text);
        let mut two = FRAME_A.to_vec();
        // a skippable frame (magic 0x184D2A50, 3 bytes of payload) between two frames
        two.extend([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
        two.extend(FRAME_A);
        assert_eq!(decode(&two).unwrap(), format!("{text}{text}"));
        // truncated input is an error, not a short read taken for the end
        assert!(decode(&FRAME_A[..FRAME_A.len() - 3]).is_err());
        assert_eq!(decode(&[]).unwrap(), "");
        // a compressed (not raw) frame: `zstd -19` of 301 generated lines
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/zstd_log.csv.zst"
        ))
        .unwrap();
        assert_eq!(decode(&bytes).unwrap(), zstd_log_text());
    }

    /// The text of `tests/data/zstd_log.csv.zst`.
    pub(crate) fn zstd_log_text() -> String {
        let mut t = String::from("id,date,amount\n");
        for i in 0..300 {
            t.push_str(&format!("c{},2024-01-{:02},{i}.5\n", i % 7, i % 28 + 1));
        }
        t
    }
}
