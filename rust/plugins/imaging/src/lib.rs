//! Test plugin "imaging": images owned as `Box`, a host buffer read through
//! its C layout, every scalar kind of the ABI, a panic and an error.
use ferry::{Error, HostRef, Owned, Status};
use std::ffi::CStr;

pub struct Image {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}
ferry::export!(Image, "img.Image", Boxed);

ferry::plain! {
    /// The C host's buffer object (registered FERRY_PLAIN, size 64, align 4).
    pub struct BufferData {
        pub len: u32,
        pub bytes: [u8; 60],
    }
}
ferry::host_type!(pub HostBuffer, "host.Buffer", layout = BufferData);

ferry::plugin! {
    name: "imaging",
    version: "0.1.0",
    types: [Image],
    functions: {
        /// A width x height image, every pixel `fill`.
        fn new_image(width: u32, height: u32, fill: u8) -> Box<Image> {
            let n = width as usize * height as usize;
            Box::new(Image { width, height, pixels: vec![fill; n] })
        }

        /// The image's width.
        fn width(img: &Image) -> u32 {
            img.width
        }

        /// The sum of all pixel bytes.
        fn checksum(img: &Image) -> u64 {
            img.pixels.iter().map(|&p| u64::from(p)).sum()
        }

        /// Adds `by` to every pixel, saturating.
        fn brighten(img: &mut Image, by: u8) {
            for p in &mut img.pixels {
                *p = p.saturating_add(by);
            }
        }

        /// A box blur of the same size; consumes the image.
        fn blur(img: Box<Image>, radius: f64) -> Box<Image> {
            let r = radius.max(0.0) as usize;
            let (w, h) = (img.width as usize, img.height as usize);
            let mut pixels = vec![0u8; img.pixels.len()];
            for y in 0..h {
                for x in 0..w {
                    let (mut sum, mut n) = (0u64, 0u64);
                    for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                        for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                            sum += u64::from(img.pixels[yy * w + xx]);
                            n += 1;
                        }
                    }
                    pixels[y * w + x] = (sum / n) as u8;
                }
            }
            Box::new(Image { width: img.width, height: img.height, pixels })
        }

        /// An image of the buffer's bytes (width = len, height 1); the
        /// buffer goes back to the host.
        fn from_buffer(buf: Owned<HostBuffer>) -> ferry::Result<Box<Image>> {
            let data = buf.borrow()?;
            let len = (data.len as usize).min(data.bytes.len());
            let pixels = data.bytes[..len].to_vec();
            Ok(Box::new(Image { width: len as u32, height: 1, pixels }))
        }

        /// The buffer's length field.
        fn buffer_len(buf: HostRef<HostBuffer>) -> u32 {
            buf.len
        }

        /// Drops the buffer on another thread (the host's destructor runs there).
        fn drop_buffer_on_thread(buf: Owned<HostBuffer>) {
            std::thread::spawn(move || drop(buf))
                .join()
                .expect("the dropping thread does not panic");
        }

        /// a + b.
        fn add(a: i64, b: i64) -> i64 {
            a.wrapping_add(b)
        }

        /// The wrapping sum of one argument of each integer kind.
        fn mix(a: i8, b: i16, c: i32, d: i64, e: u8, f: u16, g: u32, h: u64) -> i64 {
            [i64::from(a), i64::from(b), i64::from(c), d, i64::from(e), i64::from(f), i64::from(g), h as i64]
                .into_iter()
                .fold(0i64, i64::wrapping_add)
        }

        /// x * k, in double precision.
        fn scale(x: f32, k: f64) -> f64 {
            f64::from(x) * k
        }

        /// !b.
        fn negate(b: bool) -> bool {
            !b
        }

        /// The string's length in bytes.
        fn strlen(s: &str) -> u64 {
            s.len() as u64
        }

        /// What this plugin is.
        fn describe() -> &'static CStr {
            c"imaging test plugin"
        }

        /// Always panics.
        fn panic_now() {
            panic!("panic_now was called");
        }

        /// Always fails with FERRY_E_KIND.
        fn fail(code: i32) -> ferry::Result<()> {
            Err(Error::new(Status::KIND, format!("fail was called with {code}")))
        }
    }
}
