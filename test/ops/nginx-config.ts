/**
 * The nginx configuration of docs/deployment.md, made for a test: loopback
 * only, every file in one temporary directory, in the foreground.
 */
export interface NginxTestConfig {
  dir: string;
  listenPort: number;
  relayPort: number;
}

export function nginxTestConfig({ dir, listenPort, relayPort }: NginxTestConfig): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  # WebSocket and WebRoute are both HTTP/1.1 upgrades: pass Upgrade on, and
  # Connection: upgrade only when the client asked for one.
  map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
  }
  upstream remoted { server 127.0.0.1:${relayPort}; }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://remoted;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Real-IP $remote_addr;
      # A dialer gets no answer until it is linked, and a link may be quiet for long.
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`;
}
