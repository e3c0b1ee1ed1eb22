import GatewayConfig
import NIOCore

/// The `/docs` page: FastAPI's `get_swagger_ui_html` page, line for line, which
/// loads Swagger UI 5 from the jsDelivr CDN and points it at the document. The
/// browser must reach cdn.jsdelivr.net; the gateway serves only this HTML.
enum SwaggerUIPage {
    static let javaScriptURL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
    static let styleSheetURL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
    /// Swagger UI's own icon from the same CDN (FastAPI links its logo on fastapi.tiangolo.com).
    static let faviconURL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/favicon-32x32.png"

    static func render(_ configuration: OpenAPIConfiguration, allocator: ByteBufferAllocator) -> ServedPage {
        // FastAPI's template, including its indentation; no OAuth2 redirect page is served.
        // The document's path cannot hold quotes or `<` (the decoder refuses them).
        let html = """

                <!DOCTYPE html>
                <html>
                <head>
                <meta name="viewport" content="width=device-width, initial-scale=1.0">
                <link type="text/css" rel="stylesheet" href="\(styleSheetURL)">
                <link rel="shortcut icon" href="\(faviconURL)">
                <title>\(escapeHTML(configuration.title)) - Swagger UI</title>
                </head>
                <body>
                <div id="swagger-ui">
                </div>
                <script src="\(javaScriptURL)"></script>
                <!-- `SwaggerUIBundle` is now available on the page -->
                <script>
                const ui = SwaggerUIBundle({
                    url: '\(configuration.path)',
                "dom_id": "#swagger-ui",
            "layout": "BaseLayout",
            "deepLinking": true,
            "showExtensions": true,
            "showCommonExtensions": true,

                presets: [
                    SwaggerUIBundle.presets.apis,
                    SwaggerUIBundle.SwaggerUIStandalonePreset
                    ],
                })
                </script>
                </body>
                </html>
                
            """
        return ServedPage(body: allocator.buffer(string: html), contentType: "text/html; charset=utf-8")
    }

    static func escapeHTML(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
