import type {
  CreateProductInput,
  Product,
  UpdateProductInput,
  QueueSettingsInput,
  QueueView,
  StockLevel,
} from '@stampede/contract';

/** Direct calls to the API for arranging a scenario (the UI is what is under test). */
export class ApiHelper {
  private token: string | null = null;

  constructor(private readonly baseUrl: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}/api${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  async signInAsAdmin(email: string, password: string) {
    const session = await this.call<{ access_token: string }>('POST', '/auth/login', {
      email,
      password,
    });
    this.token = session.access_token;
  }

  createProduct(input: CreateProductInput) {
    return this.call<Product>('POST', '/admin/products', input);
  }

  updateProduct(productId: number, input: UpdateProductInput) {
    return this.call<Product>('PATCH', `/admin/products/${productId}`, input);
  }

  stock(productId: number) {
    return this.call<StockLevel>('GET', `/products/${productId}/stock`);
  }

  product(productId: number) {
    return this.call<Product>('GET', `/products/${productId}`);
  }

  /** A product's waiting room as the operator sees it (needs the queue endpoints of issue 14). */
  queue(productId: number) {
    return this.call<QueueView>('GET', `/admin/products/${productId}/queue`);
  }

  setQueue(productId: number, input: QueueSettingsInput) {
    return this.call<QueueView>('PUT', `/admin/products/${productId}/queue`, input);
  }

  /** The server's clock, which sale windows are decided by. */
  async serverNow(): Promise<number> {
    const list = await this.call<{ server_now: string }>('GET', '/products?page_size=1');
    return Date.parse(list.server_now);
  }
}
