//! Which HTTP methods the upload endpoint answers, and what the others get.

use reqwest::Method;

use crate::helpers::{assert_json_content_type, expect_api_error, header, spawn_app};

#[tokio::test]
async fn other_methods_on_the_upload_endpoint_get_a_json_405_naming_get_and_post() {
    let app = spawn_app().await;
    let methods = [
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::HEAD,
    ];

    for path in ["/api/1/upload", "/api/1/upload/"] {
        for method in methods.clone() {
            let case = format!("{method} {path}");
            let response = app
                .client
                .request(method.clone(), app.url(path))
                .header("X-API-Key", &app.api_key)
                .send()
                .await
                .expect("answered");

            assert_eq!(response.status().as_u16(), 405, "{case}");
            assert_eq!(header(&response, "allow"), "GET, POST", "{case}");
            if method == Method::HEAD {
                assert_json_content_type(&response);
                continue;
            }
            let message = expect_api_error(response, 405, 405).await;
            assert!(message.contains("GET or POST"), "{case}: {message}");
        }
    }
}
