//! Downloads the image behind a client-supplied URL (Chevereto's `source=` field) without letting
//! that URL reach into the network sajin runs in.
//!
//! A URL from a client is an instruction to make a request from inside our network, so every hop
//! is checked: the scheme must be http or https, and the address actually connected to must pass
//! the address policy. The check lives in the DNS resolver handed to reqwest, so the address that
//! was judged is the address that is dialled and a second lookup (DNS rebinding) cannot swap it.
//! Redirects are followed here, not by reqwest, so each new location goes through the same checks,
//! and the whole download runs under one deadline and one size cap.

use std::error::Error as StdError;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::LOCATION;
use reqwest::{redirect, Client, Response, StatusCode};
use url::{Host, Url};

/// What a fetch may do; built from the configuration once at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Whether loopback, RFC 1918, CGNAT and unique-local addresses may be fetched from.
    /// Link-local, multicast and reserved addresses stay refused either way.
    pub allow_private: bool,
    /// The largest body accepted, in bytes.
    pub max_bytes: u64,
    /// The deadline for the whole fetch: every hop, headers and body together.
    pub timeout: Duration,
    /// How many redirects are followed before giving up.
    pub max_redirects: usize,
}

/// Downloads URL sources under a [`FetchPolicy`]. Cheap to clone: the HTTP client inside is
/// reference-counted, so build one at start-up and share it.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: Client,
    policy: FetchPolicy,
}

/// A downloaded body. Nothing about its type is known: the caller sniffs the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The body, at most `max_bytes` long.
    pub bytes: Vec<u8>,
    /// The last non-empty path segment of the final URL, percent-decoded. Untrusted: it may
    /// contain any character, so sanitise it before use.
    pub file_name: Option<String>,
}

/// Why a URL source could not be fetched. Every message is shown to the API client.
#[derive(thiserror::Error, Debug)]
pub enum FetchError {
    /// The URL, or a redirect, uses a scheme other than http or https. Holds the scheme.
    #[error("URL scheme {0:?} is not allowed: use http or https")]
    Scheme(String),
    /// The host is, or resolves only to, an address the policy refuses. Holds the message.
    #[error("{0}")]
    Forbidden(String),
    /// The body is larger than the cap, by its Content-Length or by what arrived.
    #[error("URL points to a file larger than the {} MB limit", megabytes(*max_bytes))]
    TooLarge {
        /// The cap that was passed, in bytes.
        max_bytes: u64,
    },
    /// The whole fetch took longer than the policy's timeout.
    #[error("URL took too long to download")]
    Timeout,
    /// The final answer was not a 2xx. Holds the status code.
    #[error("URL answered HTTP {0}")]
    Status(u16),
    /// The URL redirected more times than the policy allows.
    #[error("URL redirected too many times")]
    TooManyRedirects,
    /// Anything else: a malformed URL or redirect, DNS failure, refused connection, TLS failure.
    /// Holds a message for the client, free of internal detail.
    #[error("{0}")]
    Invalid(String),
}

impl Fetcher {
    /// Builds the HTTP client behind every fetch.
    pub fn new(policy: FetchPolicy) -> Result<Self, FetchError> {
        let resolver = GuardedResolver {
            allow_private: policy.allow_private,
        };

        // No proxy: a proxy would resolve the host itself and bypass the address checks. No pool:
        // every hop opens a connection made after a fresh check, and no idle sockets to hosts
        // chosen by clients are kept open.
        let client = Client::builder()
            .redirect(redirect::Policy::none())
            .no_proxy()
            .pool_max_idle_per_host(0)
            .dns_resolver(Arc::new(resolver))
            .connect_timeout(policy.timeout)
            .user_agent(concat!("sajin/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                tracing::error!(error = %error_chain(&error), "could not build the HTTP client");
                FetchError::Invalid("URL fetching is unavailable on this server".to_owned())
            })?;

        Ok(Self { client, policy })
    }

    /// Downloads `url`, following redirects, under the policy's deadline, size cap and address
    /// rules.
    pub async fn fetch(&self, url: &Url) -> Result<Fetched, FetchError> {
        tokio::time::timeout(self.policy.timeout, self.fetch_following_redirects(url))
            .await
            .map_err(|_elapsed| FetchError::Timeout)?
    }

    async fn fetch_following_redirects(&self, url: &Url) -> Result<Fetched, FetchError> {
        let mut current = url.clone();
        check_target(&current, self.policy.allow_private)?;
        let mut redirects = 0;

        loop {
            tracing::debug!(url = %current, "fetching URL source");
            let response = self
                .client
                .get(current.clone())
                .send()
                .await
                .map_err(request_error)?;

            let Some(next) = redirect_target(&current, &response)? else {
                let bytes = read_capped(response, self.policy.max_bytes).await?;
                let file_name = file_name(&current);
                return Ok(Fetched { bytes, file_name });
            };

            // The target is checked before the count so a redirect to file:// says so, even when
            // it is also one hop too many.
            check_target(&next, self.policy.allow_private)?;
            if redirects == self.policy.max_redirects {
                return Err(FetchError::TooManyRedirects);
            }
            redirects += 1;
            current = next;
        }
    }
}

/// Refuses a URL before any connection: a scheme other than http(s), no host, or a host that is
/// an IP literal the policy refuses. IP literals need this because reqwest connects to them
/// without calling the resolver, where names are checked.
fn check_target(url: &Url, allow_private: bool) -> Result<(), FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::Scheme(url.scheme().to_owned()));
    }

    let ip = match url.host() {
        None => return Err(FetchError::Invalid("URL has no host".to_owned())),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        // The url crate already turns IPv4-looking names into addresses; this mirrors the
        // connector's own "is it an IP?" shortcut so nothing can slip between the two parsers.
        Some(Host::Domain(name)) => match name.parse() {
            Ok(ip) => ip,
            Err(_) => return Ok(()),
        },
    };

    match refusal(ip, allow_private) {
        Some(refusal) => Err(refusal.to_fetch_error()),
        None => Ok(()),
    }
}

/// The next URL when `response` is a redirect, an error when it is any other non-2xx answer, and
/// `None` when it carries the body.
fn redirect_target(current: &Url, response: &Response) -> Result<Option<Url>, FetchError> {
    let status = response.status();
    let is_redirect = matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    );
    if !is_redirect {
        if status.is_success() {
            return Ok(None);
        }
        return Err(FetchError::Status(status.as_u16()));
    }

    let Some(location) = response.headers().get(LOCATION) else {
        return Err(FetchError::Status(status.as_u16()));
    };
    let bad_location = || FetchError::Invalid("URL redirected to an invalid location".to_owned());
    let location = location.to_str().map_err(|_| bad_location())?;
    current.join(location).map(Some).map_err(|_| bad_location())
}

/// Reads the body, refusing it as soon as it would pass `max_bytes`, so no more than `max_bytes`
/// is ever held.
async fn read_capped(mut response: Response, max_bytes: u64) -> Result<Vec<u8>, FetchError> {
    let too_large = FetchError::TooLarge { max_bytes };
    let declared = response.content_length();
    if declared.is_some_and(|length| length > max_bytes) {
        return Err(too_large);
    }

    let capacity = declared
        .and_then(|length| usize::try_from(length).ok())
        .unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    while let Some(chunk) = response.chunk().await.map_err(request_error)? {
        let total = bytes.len().saturating_add(chunk.len());
        if u64::try_from(total).unwrap_or(u64::MAX) > max_bytes {
            return Err(too_large);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Turns a reqwest failure into a message for the client; the full cause chain goes to the log.
fn request_error(error: reqwest::Error) -> FetchError {
    if error.is_timeout() {
        return FetchError::Timeout;
    }

    let mut cause: Option<&(dyn StdError + 'static)> = Some(&error);
    while let Some(current) = cause {
        if let Some(resolve) = current.downcast_ref::<ResolveError>() {
            return resolve.to_fetch_error();
        }
        let is_refused = current
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::ConnectionRefused);
        if is_refused {
            return FetchError::Invalid("URL host refused the connection".to_owned());
        }
        cause = current.source();
    }

    tracing::debug!(error = %error_chain(&error), "URL source request failed");
    let message = if error.is_connect() {
        "could not connect to the URL host or set up a secure connection with it"
    } else if error.is_body() || error.is_decode() {
        "URL download broke off before it finished"
    } else {
        "request to the URL failed"
    };
    FetchError::Invalid(message.to_owned())
}

fn error_chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        text.push_str(": ");
        text.push_str(&current.to_string());
        cause = current.source();
    }
    text
}

/// Resolves names with the system resolver and hands reqwest only the addresses the policy
/// allows, so the connection goes to an address that was checked.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allow_private = self.allow_private;
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(ResolveError::Lookup)?;
            let allowed = allowed_addresses(&host, resolved, allow_private)?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

fn allowed_addresses(
    host: &str,
    resolved: impl Iterator<Item = SocketAddr>,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, ResolveError> {
    let mut allowed = Vec::new();
    let mut refused = None;
    for address in resolved {
        match refusal(address.ip(), allow_private) {
            None => allowed.push(address),
            Some(refusal) => {
                tracing::debug!(host, address = %address.ip(), "dropped a refused address");
                // Private wins the report: it is the refusal an operator can lift.
                refused = Some(refused.map_or(refusal, |seen: Refusal| seen.min(refusal)));
            }
        }
    }

    match (allowed.is_empty(), refused) {
        (false, _) => Ok(allowed),
        (true, Some(refusal)) => Err(ResolveError::Refused(refusal)),
        (true, None) => Err(ResolveError::NoAddresses),
    }
}

/// Why the guarded resolver gave reqwest no address; found again in reqwest's error chain.
#[derive(thiserror::Error, Debug)]
enum ResolveError {
    #[error("DNS lookup failed")]
    Lookup(#[source] io::Error),
    #[error("the name resolved to no addresses")]
    NoAddresses,
    #[error("every address of the host is refused by the fetch policy")]
    Refused(Refusal),
}

impl ResolveError {
    fn to_fetch_error(&self) -> FetchError {
        match self {
            Self::Lookup(_) | Self::NoAddresses => {
                FetchError::Invalid("could not find the URL host: its name does not resolve".into())
            }
            Self::Refused(refusal) => refusal.to_fetch_error(),
        }
    }
}

/// Where an address sits in the address policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AddressClass {
    Public,
    /// Loopback and local networks: refused unless `allow_private`.
    Private,
    /// Never fetched from: unspecified, link-local, multicast, broadcast and reserved ranges.
    Reserved,
}

/// Why an address is refused, ordered so the refusal an operator can lift sorts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Refusal {
    Private,
    Reserved,
}

impl Refusal {
    fn to_fetch_error(self) -> FetchError {
        let message = match self {
            Self::Private => {
                "URL host resolves to a private or loopback address, which is not allowed"
            }
            Self::Reserved => {
                "URL host resolves to a link-local, multicast or reserved address, which is never \
                 allowed"
            }
        };
        FetchError::Forbidden(message.to_owned())
    }
}

/// Why `ip` may not be dialled under the policy, or `None` when it may.
fn refusal(ip: IpAddr, allow_private: bool) -> Option<Refusal> {
    match classify(ip) {
        AddressClass::Public => None,
        AddressClass::Private if allow_private => None,
        AddressClass::Private => Some(Refusal::Private),
        AddressClass::Reserved => Some(Refusal::Reserved),
    }
}

fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(ip) => classify_v4(ip),
        IpAddr::V6(ip) => classify_v6(ip),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    match ip.octets() {
        [0, ..] => AddressClass::Reserved,
        [127, ..] | [10, ..] | [172, 16..=31, ..] | [192, 168, ..] => AddressClass::Private,
        // Carrier-grade NAT: an ISP's inner network, or a home router's upstream.
        [100, 64..=127, ..] => AddressClass::Private,
        // Link-local, home of the cloud metadata service at 169.254.169.254.
        [169, 254, ..] => AddressClass::Reserved,
        // IETF protocol assignments, documentation, the retired 6to4 relay, benchmarking.
        [192, 0, 0 | 2, _] | [192, 88, 99, _] | [198, 51, 100, _] | [203, 0, 113, _] => {
            AddressClass::Reserved
        }
        [198, 18..=19, ..] => AddressClass::Reserved,
        // Multicast, the reserved 240/4 and the broadcast address.
        [224..=255, ..] => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if ip.is_loopback() {
        return AddressClass::Private;
    }
    if ip.is_unspecified() {
        return AddressClass::Reserved;
    }
    if let Some(v4) = embedded_ipv4(ip) {
        return classify_v4(v4);
    }

    match ip.segments() {
        [0xfc00..=0xfdff, ..] => AddressClass::Private,
        // Site-local: deprecated, but still a local network where it is used.
        [0xfec0..=0xfeff, ..] => AddressClass::Private,
        [0xfe80..=0xfebf, ..] | [0xff00..=0xffff, ..] => AddressClass::Reserved,
        // Documentation (old and new prefixes) and benchmarking.
        [0x2001, 0x0db8, ..] | [0x3fff, 0x0000..=0x0fff, ..] | [0x2001, 0x0002, 0, ..] => {
            AddressClass::Reserved
        }
        [0x2000..=0x3fff, ..] => AddressClass::Public,
        // Outside 2000::/3 everything else is unassigned or reserved (such as discard 100::/64).
        _ => AddressClass::Reserved,
    }
}

/// The IPv4 address an IPv6 address stands for, when it is just a wrapper around one: mapped
/// (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
/// Judging the wrapper as the inner address stops ::ffff:127.0.0.1 passing as public.
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = ip.segments();
    let [.., a, b, c, d] = ip.octets();
    match segments {
        [0, 0, 0, 0, 0, 0 | 0xffff, ..] | [0x64, 0xff9b, 0, 0, 0, 0, ..] => {
            Some(Ipv4Addr::new(a, b, c, d))
        }
        [0x2002, high, low, ..] => {
            let [a, b] = high.to_be_bytes();
            let [c, d] = low.to_be_bytes();
            Some(Ipv4Addr::new(a, b, c, d))
        }
        _ => None,
    }
}

/// The last non-empty path segment of `url`, percent-decoded.
fn file_name(url: &Url) -> Option<String> {
    let segment = url.path_segments()?.rfind(|segment| !segment.is_empty())?;
    Some(percent_decode(segment))
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is, and bytes that are
/// not UTF-8 become U+FFFD.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = match bytes[index] {
            b'%' => bytes.get(index + 1..index + 3).and_then(hex_byte),
            _ => None,
        };
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let [high, low] = pair else {
        return None;
    };
    let high = char::from(*high).to_digit(16)?;
    let low = char::from(*low).to_digit(16)?;
    u8::try_from(high * 16 + low).ok()
}

/// Sizes in the client's message are in binary megabytes, the unit upload limits are set in.
fn megabytes(bytes: u64) -> String {
    const MEGABYTE: u64 = 1024 * 1024;
    if bytes.is_multiple_of(MEGABYTE) {
        return (bytes / MEGABYTE).to_string();
    }
    format!("{:.1}", bytes as f64 / MEGABYTE as f64)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// How a canned test server answers one request.
    enum Reply {
        /// Write these bytes and close.
        Close(Vec<u8>),
        /// Write these bytes and then hold the connection open without a word.
        Stall(Vec<u8>),
        /// A chunked 200 whose chunks never end.
        EndlessChunks,
    }

    /// Starts a server on loopback answering every request with `route(request head)`.
    async fn serve(route: fn(&str) -> Reply) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("listener address");
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, route));
            }
        });
        address
    }

    async fn answer(mut stream: TcpStream, route: fn(&str) -> Reply) {
        let mut head = Vec::new();
        let mut buffer = [0; 1024];
        while !head.windows(4).any(|window| window == b"\r\n\r\n") {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => head.extend_from_slice(&buffer[..read]),
            }
        }

        match route(&String::from_utf8_lossy(&head)) {
            Reply::Close(bytes) => {
                let _ = stream.write_all(&bytes).await;
            }
            Reply::Stall(bytes) => {
                let _ = stream.write_all(&bytes).await;
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            Reply::EndlessChunks => {
                let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
                let mut chunk = b"400\r\n".to_vec();
                chunk.extend_from_slice(&[b'x'; 0x400]);
                chunk.extend_from_slice(b"\r\n");
                let _ = stream.write_all(head.as_bytes()).await;
                while stream.write_all(&chunk).await.is_ok() {}
            }
        }
    }

    fn path(head: &str) -> &str {
        head.split(' ').nth(1).unwrap_or("")
    }

    fn ok(body: &[u8]) -> Reply {
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
        Reply::Close([head.as_bytes(), body].concat())
    }

    fn redirect_to(location: &str) -> Reply {
        let head =
            format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
        Reply::Close(head.into_bytes())
    }

    fn policy(allow_private: bool) -> FetchPolicy {
        FetchPolicy {
            allow_private,
            max_bytes: 4096,
            timeout: Duration::from_secs(5),
            max_redirects: 5,
        }
    }

    async fn fetch(policy: FetchPolicy, url: &str) -> Result<Fetched, FetchError> {
        let fetcher = Fetcher::new(policy).expect("client builds");
        fetcher
            .fetch(&Url::parse(url).expect("test URL parses"))
            .await
    }

    /// Asserts nothing connected to `listener`: a completed handshake would wait in the backlog,
    /// so `accept` would return at once.
    async fn assert_never_connected(listener: &TcpListener) {
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(accepted.is_err(), "the refused fetch reached the server");
    }

    #[tokio::test]
    async fn a_private_server_is_fetched_when_private_addresses_are_allowed() {
        let server = serve(|_| ok(b"image bytes")).await;

        let url = format!("http://{server}/pics/cat%20photo.png?size=large");
        let fetched = fetch(policy(true), &url).await.expect("fetch succeeds");

        assert_eq!(fetched.bytes, b"image bytes");
        assert_eq!(fetched.file_name.as_deref(), Some("cat photo.png"));
    }

    #[tokio::test]
    async fn the_request_carries_a_sajin_user_agent() {
        let server = serve(|head| {
            let agent = head
                .lines()
                .find(|line| line.to_ascii_lowercase().starts_with("user-agent"));
            ok(agent.unwrap_or("none").as_bytes())
        })
        .await;

        let fetched = fetch(policy(true), &format!("http://{server}/"))
            .await
            .expect("fetch");

        let expected = concat!("user-agent: sajin/", env!("CARGO_PKG_VERSION"));
        assert_eq!(
            String::from_utf8_lossy(&fetched.bytes).to_ascii_lowercase(),
            expected
        );
        assert_eq!(fetched.file_name, None);
    }

    #[tokio::test]
    async fn loopback_hosts_are_refused_before_connecting_when_private_addresses_are_not_allowed() {
        let v4 = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let v4_port = v4.local_addr().expect("address").port();
        // The container may lack IPv6; then nothing listens and the refusal alone is checked.
        let v6 = TcpListener::bind("[::1]:0").await.ok();
        let v6_port = v6
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map_or(9, |a| a.port());

        let urls = [
            format!("http://127.0.0.1:{v4_port}/a.png"),
            format!("http://localhost:{v4_port}/a.png"),
            format!("http://[::1]:{v6_port}/a.png"),
            format!("http://[::ffff:127.0.0.1]:{v4_port}/a.png"),
        ];
        for url in urls {
            let error = fetch(policy(false), &url)
                .await
                .expect_err("loopback is refused");
            assert!(
                matches!(error, FetchError::Forbidden(_)),
                "{url}: {error:?}"
            );
            assert_eq!(
                error.to_string(),
                "URL host resolves to a private or loopback address, which is not allowed"
            );
        }

        assert_never_connected(&v4).await;
        if let Some(v6) = &v6 {
            assert_never_connected(v6).await;
        }
    }

    #[tokio::test]
    async fn link_local_metadata_address_is_refused_even_when_private_addresses_are_allowed() {
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/",
            "http://0.0.0.0/",
        ] {
            let error = fetch(policy(true), url)
                .await
                .expect_err("link-local is refused");
            assert!(
                matches!(error, FetchError::Forbidden(_)),
                "{url}: {error:?}"
            );
        }
    }

    #[tokio::test]
    async fn schemes_other_than_http_and_https_are_refused() {
        let cases = [
            ("file:///etc/passwd", "file"),
            ("ftp://example.com/a.png", "ftp"),
            ("gopher://example.com/", "gopher"),
        ];
        for (url, scheme) in cases {
            let error = fetch(policy(true), url)
                .await
                .expect_err("scheme is refused");
            assert!(
                matches!(&error, FetchError::Scheme(found) if found == scheme),
                "{error:?}"
            );
        }

        let error = fetch(policy(true), "ftp://example.com/")
            .await
            .expect_err("refused");
        assert_eq!(
            error.to_string(),
            "URL scheme \"ftp\" is not allowed: use http or https"
        );
    }

    fn three_hop_chain(head: &str) -> Reply {
        match path(head) {
            "/one" => redirect_to("/two"),
            "/two" => redirect_to("three"),
            "/three" => redirect_to("/final/photo.jpg"),
            "/final/photo.jpg" => ok(b"final"),
            _ => Reply::Close(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()),
        }
    }

    #[tokio::test]
    async fn a_chain_of_three_redirects_is_followed_to_the_final_url() {
        let server = serve(three_hop_chain).await;

        let limit = FetchPolicy {
            max_redirects: 3,
            ..policy(true)
        };
        let url = format!("http://{server}/one");
        let fetched = fetch(limit, &url).await.expect("the chain is followed");

        assert_eq!(fetched.bytes, b"final");
        assert_eq!(fetched.file_name.as_deref(), Some("photo.jpg"));
    }

    #[tokio::test]
    async fn a_chain_one_longer_than_the_limit_is_refused() {
        let server = serve(three_hop_chain).await;

        let limit = FetchPolicy {
            max_redirects: 2,
            ..policy(true)
        };
        let error = fetch(limit, &format!("http://{server}/one"))
            .await
            .expect_err("too long");

        assert!(matches!(error, FetchError::TooManyRedirects), "{error:?}");
    }

    #[tokio::test]
    async fn a_redirect_to_a_file_url_is_refused() {
        let server = serve(|_| redirect_to("file:///etc/passwd")).await;

        let error = fetch(policy(true), &format!("http://{server}/"))
            .await
            .expect_err("refused");

        assert!(
            matches!(&error, FetchError::Scheme(scheme) if scheme == "file"),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_redirect_to_the_metadata_address_is_refused() {
        let server = serve(|_| redirect_to("http://169.254.169.254/latest/meta-data/")).await;

        let error = fetch(policy(true), &format!("http://{server}/"))
            .await
            .expect_err("refused");

        assert!(matches!(error, FetchError::Forbidden(_)), "{error:?}");
    }

    #[tokio::test]
    async fn a_redirect_loop_ends_in_too_many_redirects() {
        let server = serve(|_| redirect_to("/loop")).await;

        let error = fetch(policy(true), &format!("http://{server}/loop"))
            .await
            .expect_err("loop");

        assert!(matches!(error, FetchError::TooManyRedirects), "{error:?}");
    }

    #[tokio::test]
    async fn a_declared_length_over_the_cap_is_refused_without_reading_the_body() {
        // The body never comes, so only the early refusal can end this before the timeout.
        let server = serve(|_| {
            Reply::Stall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n".to_vec())
        })
        .await;

        let error = fetch(policy(true), &format!("http://{server}/"))
            .await
            .expect_err("large");

        assert!(
            matches!(error, FetchError::TooLarge { max_bytes: 4096 }),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn an_endless_chunked_body_stops_at_the_cap() {
        let server = serve(|_| Reply::EndlessChunks).await;

        let error = fetch(policy(true), &format!("http://{server}/"))
            .await
            .expect_err("large");

        assert!(
            matches!(error, FetchError::TooLarge { max_bytes: 4096 }),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_body_of_exactly_the_cap_is_accepted() {
        let server = serve(|_| ok(&[7; 4096])).await;

        let fetched = fetch(policy(true), &format!("http://{server}/"))
            .await
            .expect("fits");

        assert_eq!(fetched.bytes.len(), 4096);
    }

    #[tokio::test]
    async fn a_server_that_stalls_after_the_headers_times_out_within_the_deadline() {
        let server = serve(|_| {
            Reply::Stall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial".to_vec())
        })
        .await;

        let short = FetchPolicy {
            timeout: Duration::from_secs(1),
            ..policy(true)
        };
        let started = Instant::now();
        let error = fetch(short, &format!("http://{server}/"))
            .await
            .expect_err("stalls");

        assert!(matches!(error, FetchError::Timeout), "{error:?}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_not_found_answer_is_reported_with_its_status() {
        let server = serve(|_| {
            Reply::Close(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec())
        })
        .await;

        let error = fetch(policy(true), &format!("http://{server}/"))
            .await
            .expect_err("404");

        assert!(matches!(error, FetchError::Status(404)), "{error:?}");
        assert_eq!(error.to_string(), "URL answered HTTP 404");
    }

    #[tokio::test]
    async fn a_refused_connection_is_reported_without_internals() {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("address");
        drop(listener);

        let error = fetch(policy(true), &format!("http://{address}/"))
            .await
            .expect_err("closed");

        assert!(matches!(error, FetchError::Invalid(_)), "{error:?}");
        assert!(!error.to_string().contains("127.0.0.1"), "{error}");
    }

    #[test]
    fn the_fetch_future_can_be_spawned() {
        fn assert_send<T: Send>(_: &T) {}
        let fetcher = Fetcher::new(policy(true)).expect("client builds");
        let url = Url::parse("http://example.com/").expect("parses");
        assert_send(&fetcher.fetch(&url));
    }

    #[test]
    fn addresses_are_classified_by_range() {
        use AddressClass::{Private, Public, Reserved};
        let cases = [
            ("8.8.8.8", Public),
            ("1.1.1.1", Public),
            ("172.32.0.1", Public),
            ("100.128.0.1", Public),
            ("127.0.0.1", Private),
            ("127.255.255.254", Private),
            ("10.1.2.3", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("100.64.0.1", Private),
            ("100.127.255.255", Private),
            ("0.0.0.0", Reserved),
            ("0.1.2.3", Reserved),
            ("169.254.169.254", Reserved),
            ("224.0.0.1", Reserved),
            ("239.255.255.250", Reserved),
            ("240.0.0.1", Reserved),
            ("255.255.255.255", Reserved),
            ("192.0.2.1", Reserved),
            ("198.51.100.1", Reserved),
            ("203.0.113.1", Reserved),
            ("198.18.0.1", Reserved),
            ("2606:4700:4700::1111", Public),
            ("2a00:1450:4001::1", Public),
            ("::1", Private),
            ("fc00::1", Private),
            ("fd12:3456::1", Private),
            ("::", Reserved),
            ("fe80::1", Reserved),
            ("febf::1", Reserved),
            ("ff02::1", Reserved),
            ("2001:db8::1", Reserved),
            ("3fff::1", Reserved),
            ("100::1", Reserved),
            ("4000::1", Reserved),
            ("::ffff:8.8.8.8", Public),
            ("::ffff:127.0.0.1", Private),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:169.254.169.254", Reserved),
            ("::ffff:0.0.0.0", Reserved),
            ("::127.0.0.1", Private),
            ("::169.254.169.254", Reserved),
            ("64:ff9b::a00:1", Private),
            ("64:ff9b::808:808", Public),
            ("2002:7f00:1::", Private),
            ("2002:a9fe:a9fe::1", Reserved),
            ("2002:808:808::1", Public),
        ];
        for (text, expected) in cases {
            let ip: IpAddr = text.parse().expect("test address parses");
            assert_eq!(classify(ip), expected, "{text}");
        }
    }

    #[test]
    fn private_addresses_are_refused_only_without_allow_private() {
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let metadata = IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254));

        assert_eq!(refusal(loopback, false), Some(Refusal::Private));
        assert_eq!(refusal(loopback, true), None);
        assert_eq!(refusal(metadata, true), Some(Refusal::Reserved));
    }

    #[test]
    fn the_resolver_keeps_only_allowed_addresses() {
        let resolved: Vec<SocketAddr> = ["127.0.0.1:0", "8.8.8.8:0", "[::1]:0"]
            .iter()
            .map(|text| text.parse().expect("test address parses"))
            .collect();

        let allowed = allowed_addresses("mixed", resolved.iter().copied(), false).expect("one");
        assert_eq!(allowed, vec![resolved[1]]);

        let only_refused = ["169.254.169.254:0", "10.0.0.1:0"].map(|t| t.parse().expect("parses"));
        let error = allowed_addresses("bad", only_refused.into_iter(), false).expect_err("none");
        assert!(
            matches!(error, ResolveError::Refused(Refusal::Private)),
            "{error:?}"
        );
    }

    #[test]
    fn file_names_come_from_the_last_non_empty_segment_decoded() {
        let cases = [
            ("http://h/a/b/cat.png", Some("cat.png")),
            ("http://h/a/b/", Some("b")),
            (
                "http://h/caf%C3%A9%20au%20lait.jpg",
                Some("café au lait.jpg"),
            ),
            ("http://h/100%25.gif", Some("100%.gif")),
            ("http://h/odd%zz.png", Some("odd%zz.png")),
            ("http://h/", None),
            ("http://h", None),
        ];
        for (url, expected) in cases {
            let url = Url::parse(url).expect("test URL parses");
            assert_eq!(file_name(&url).as_deref(), expected, "{url}");
        }
    }

    #[test]
    fn the_size_limit_is_named_in_megabytes() {
        let error = FetchError::TooLarge {
            max_bytes: 20 * 1024 * 1024,
        };
        assert_eq!(
            error.to_string(),
            "URL points to a file larger than the 20 MB limit"
        );
        assert_eq!(megabytes(1536 * 1024), "1.5");
    }
}
