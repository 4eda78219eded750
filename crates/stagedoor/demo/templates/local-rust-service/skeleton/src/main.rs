//! ${{ values.name }}: ${{ values.description }}
//! Owned by ${{ values.owner }}. Answers `GET /health` on port ${{ values.port }}.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(${{ values.port }});
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    println!("${{ values.name }} listening on http://127.0.0.1:{port}");
    for stream in listener.incoming() {
        let mut stream = stream?;
        let mut request_line = String::new();
        BufReader::new(&stream).read_line(&mut request_line)?;
        let (status, body) = if request_line.starts_with("GET /health ") {
            ("200 OK", "{\"status\":\"ok\",\"service\":\"${{ values.name }}\"}")
        } else {
            ("404 Not Found", "{\"error\":\"not found\"}")
        };
        write!(
            stream,
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )?;
    }
    Ok(())
}
