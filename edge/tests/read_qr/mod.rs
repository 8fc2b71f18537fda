//! Reading back the SVG QR codes the daemons draw, as a phone or the kiosk's reader would. Shared
//! by the edge's tests and the workspace's end-to-end tests (which include this file by path).

/// Pixels per QR module in the bitmap given to the reader.
const SCALE: usize = 4;

/// Read an SVG QR code as a phone would: draw its dark rectangles into a bitmap, then find and
/// decode the symbol in it. Understands the SVG the `qrcode` crate writes: a `viewBox` of
/// `0 0 W H` and one path of rectangles `M{x} {y}h{w}v{h}H{x}V{y}`, one unit per module.
pub fn decode(svg: &str) -> String {
    let attribute = |name: &str| -> &str {
        let start = svg.find(&format!("{name}=\"")).unwrap_or_else(|| panic!("no {name} in {svg}")) + name.len() + 2;
        let length = svg[start..].find('"').expect("a closed attribute");
        &svg[start..start + length]
    };
    let view: Vec<usize> = attribute("viewBox").split(' ').map(|n| n.parse().expect("a number")).collect();
    let (width, height) = (view[2], view[3]);
    let mut dark = vec![false; width * height];
    for rectangle in attribute(" d").split('M').filter(|r| !r.is_empty()) {
        let numbers: Vec<usize> = rectangle
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().expect("a number"))
            .collect();
        let [x, y, w, h, ..] = numbers[..] else { panic!("not a rectangle: {rectangle}") };
        for row in y..y + h {
            dark[row * width + x..row * width + x + w].fill(true);
        }
    }
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width * SCALE, height * SCALE, |x, y| {
        if dark[(y / SCALE) * width + x / SCALE] {
            0
        } else {
            255
        }
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, text) = grids[0].decode().expect("the QR code decodes");
    text
}
